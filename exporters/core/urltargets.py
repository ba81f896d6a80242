"""What exporters whose targets are http(s) URLs share: the loaded config with its allow-list, and the
request check (a URL without credentials, allowed for the modules asked)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from exporters.core.httpconfig import check_target
from exporters.core.policy import Access, Policy
from exporters.core.probe import BadRequest, ProbeRequest

P = TypeVar("P", bound=Policy)


@dataclass
class Checked(Generic[P]):
    """A checked config, its file (auth secrets are read relative to it) and the targets it may probe."""

    config: P
    file: Path
    access: Access


def check_url_request(access: Access, request: ProbeRequest) -> None:
    """Refuse a target that is not an http(s) URL without credentials, or not allowed for these modules."""
    problem = check_target(request.target)
    if problem:
        raise BadRequest(problem)
    access.check(request.target, request.modules, None, urlsplit(request.target).hostname)
