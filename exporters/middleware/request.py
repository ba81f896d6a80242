"""One module's probe of one target, as each middleware module receives it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from exporters.core.httpconfig import AuthSpec, target_url
from exporters.core.probe import Deadline
from exporters.middleware.config import MiddlewareModule


@dataclass(frozen=True)
class ModuleProbe:
    """Where to probe, with which module settings, auths (secrets relative to `file`) and deadline."""

    module: str
    spec: MiddlewareModule
    target: str
    auths: Mapping[str, AuthSpec]
    file: Path | str
    deadline: Deadline
    redact: Callable[[str], str]
    """Passes a label value from the server (a channel name) through the PHI guard."""

    @property
    def base(self) -> str:
        """Return where the module's API starts on the target, without a trailing slash."""
        return target_url(self.target, self.spec.path).rstrip("/")
