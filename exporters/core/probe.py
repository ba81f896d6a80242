"""What every hospmon exporter implements, and the deadline and failure types its probes use.

An exporter is a class with a typed config and one method per probe module. The core (`server.py`) serves
it: it parses the request, derives the deadline from Prometheus' scrape timeout, runs each requested module
in its own worker with that deadline, and adds the probe's own series::

    hospmon_probe_success{module="if_mib"} 1
    hospmon_probe_duration_seconds{module="if_mib"} 0.042
    hospmon_probe_failure{module="ups",reason="timeout"} 1     # only for a failed module
"""

from __future__ import annotations

import argparse
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from prometheus_client.metrics_core import Metric

from hospmon.phi import RefusalTally
from hospmon.reasons import REASONS

C = TypeVar("C")

DEFAULT_TIMEOUT_SECONDS = 10.0
TIMEOUT_OFFSET_SECONDS = 0.5
MIN_BUDGET_SHARE = 0.75  # of a short scrape timeout: the rest answers Prometheus in time


def deadline_seconds(header: str | None) -> float:
    """Return the probe budget for an ``X-Prometheus-Scrape-Timeout-Seconds`` value.

    The header minus a 0.5 s offset leaves Prometheus time to receive the answer; a short header (under
    2 s) keeps 3/4 of itself instead, so that the answer still arrives within it; absent, unparsable or
    non-positive values give 10 s.
    """
    if header is None:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(header)
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS
    if not math.isfinite(value) or value <= 0:
        return DEFAULT_TIMEOUT_SECONDS
    return max(value - TIMEOUT_OFFSET_SECONDS, value * MIN_BUDGET_SHARE)


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time by which a probe must have answered."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """Return the deadline `seconds` from now."""
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Return the seconds left, never below zero."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        """Tell whether the deadline has passed."""
        return time.monotonic() >= self.at

    def cap(self, seconds: float) -> float:
        """Return `seconds` or the time left, whichever is smaller: a timeout for one network call."""
        return max(0.0, min(seconds, self.remaining()))


class ProbeFailed(Exception):
    """Raised by a probe module to fail with one of `REASONS` and a short, secret-free detail.

    `metrics` are served with the failure: what the module learnt before failing, such as the code of a
    negative acknowledgement or why an association was rejected, as labels from a fixed set.
    """

    def __init__(self, reason: str, detail: str = "", *, metrics: Sequence[Metric] = ()) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown probe failure reason {reason!r}")
        self.reason = reason
        self.detail = detail
        self.metrics = list(metrics)
        super().__init__(f"{reason}: {detail}" if detail else reason)


class BadRequest(Exception):
    """Raised while checking a request: the client gets 400 with this message."""


@dataclass(frozen=True)
class ProbeRequest:
    """One ``/probe`` call: the target, the modules asked for, and every query parameter."""

    target: str
    modules: tuple[str, ...]
    params: Mapping[str, str] = field(default_factory=dict)


class Exporter(ABC, Generic[C]):
    """One hospmon exporter: a config type, its probe modules and optional target-independent metrics."""

    name: ClassVar[str]
    """Short name, as in ``hospmon-<name>-exporter``."""
    default_port: ClassVar[int]
    program: ClassVar[str] = ""
    """The command's name when it is not ``hospmon-<name>-exporter``."""
    description: ClassVar[str] = ""
    default_module: ClassVar[str | None] = None
    """Module used when a request names none; None makes ``module`` required."""

    @cached_property
    def refusals(self) -> RefusalTally:
        """Return the PHI guard's refusals of this exporter, kept across config reloads."""
        return RefusalTally()

    def read_config(self, path: Path | None) -> Any:
        """Read and validate the config into plain, picklable objects; raise `ConfigError` with every fault.

        The served exporter runs this in a short-lived child process (`exporters.core.isolate`), so the
        validation library never stays in its memory; it must depend on nothing but `path` and the files
        and environment it names. Exporters that do not split their loading override `load_config`.
        """
        raise NotImplementedError

    def build(self, read: Any, path: Path | None) -> C:
        """Make the running config from what `read_config` returned: secrets read, pools and guards made."""
        raise NotImplementedError

    def splits_config(self) -> bool:
        """Tell whether this exporter's config is read by `read_config` and made by `build`."""
        return type(self).read_config is not Exporter.read_config

    def load_config(self, path: Path | None) -> C:
        """Read and validate the config file, raising `hospmon.config.ConfigError` with every fault."""
        return self.build(self.read_config(path), path)

    @abstractmethod
    def module_names(self, config: C) -> Collection[str]:
        """Return the module names this config offers."""

    def check_request(self, config: C, request: ProbeRequest) -> None:
        """Raise `BadRequest` when the request cannot be served (unknown module, bad parameter)."""
        known = self.module_names(config)
        unknown = [m for m in request.modules if m not in known]
        if unknown:
            raise BadRequest(f"unknown module {', '.join(unknown)}; known: {', '.join(sorted(known))}")

    @abstractmethod
    def probe_module(
        self, config: C, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Probe one module of one target; raise `ProbeFailed` to fail it with a reason."""

    def failure_metrics(self, config: C, module: str) -> Iterable[Metric]:
        """Return the series a failed module still shows, such as ``hospmon_db_up 0``; none by default."""
        return ()

    def collect(self, config: C) -> Iterable[Metric]:
        """Yield target-independent metrics served on ``/metrics`` beside the exporter's own."""
        return ()

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        """Add flags of this exporter's own to the shared ones (none by default)."""

    def use_flags(self, args: argparse.Namespace) -> None:
        """Take this exporter's own flags before its config is loaded."""

    def close(self, config: C) -> None:
        """Release what a config holds (pools, sockets) when it is replaced or the exporter stops."""

    def start(self, current: Callable[[], C]) -> None:
        """Start background work once the HTTP server is up; `current` returns the config in force.

        Exporters that only answer probes start nothing. One that also listens (the event receiver) opens
        its sockets here and raises `OSError` when it cannot; it reads the config through `current`, so a
        reload reaches it.
        """

    def stop(self) -> None:
        """Stop the background work `start` began, before the HTTP server stops."""
