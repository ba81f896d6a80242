"""Validate configuration in a short-lived child process, so a serving process never holds pydantic.

Validation imports pydantic and builds its validators: ~11 MiB that would stay in an exporter for its whole
life although it validates only at start-up and on reload. The served exporter asks a child interpreter
instead: the child imports the function, runs it (an exporter's `read_config`, `load_web_config`) and
returns its result (frozen dataclasses), or every fault as one `ConfigError`, pickled over a pipe between
the two processes alone. The child inherits the environment (secrets named by ``*_env``) and writes its
warnings to our stderr.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hospmon.config import ConfigError

T = TypeVar("T")

TIMEOUT_SECONDS = 600.0  # a 5,000-CI inventory validates in seconds; a stuck child must not hold a reload
_BOOTSTRAP = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from exporters.core.isolate import answer; answer()"
)


def call_in_child(func: Callable[..., T], *args: Any) -> T:
    """Run the module-level function `func(*args)` in a child interpreter and return its result.

    A `ConfigError` in the child is raised here with its faults; any other failure of the child raises
    `RuntimeError` naming it.
    """
    request = pickle.dumps(sys.path) + pickle.dumps((func, args))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _BOOTSTRAP],
            input=request,
            stdout=subprocess.PIPE,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"checking the config took more than {TIMEOUT_SECONDS:.0f} s") from None
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"the config check process ended with status {done.returncode}")
    kind, value = pickle.loads(done.stdout)  # noqa: S301 - our own child's answer, over our own pipe
    if kind == "faults":
        raise ConfigError(value)
    if kind == "error":
        raise RuntimeError(f"checking the config failed: {value}")
    result: T = value
    return result


def read_in_child(exporter: Any, path: Path | None) -> Any:
    """Return what `exporter.read_config(path)` returns, run by a fresh exporter of its class in a child."""
    cls = type(exporter)
    module = cls.__module__
    if module == "__main__":  # run as ``python -m exporters.his.main``: the child imports it by name
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        if spec is None:
            raise RuntimeError(f"cannot name the module of {cls.__qualname__} for the config check")
        module = spec.name
    return call_in_child(read_exporter_config, module, cls.__qualname__, path)


def read_exporter_config(module: str, qualname: str, path: Path | None) -> Any:
    """Run the `read_config` of a fresh exporter of the class `module:qualname` (what the child runs)."""
    cls = getattr(importlib.import_module(module), qualname)
    return cls().read_config(path)


def answer() -> None:
    """Child side: read the call from stdin, run it, write the pickled outcome to stdout."""
    result = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the call prints goes to stderr, never into the answer
    func, args = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by our parent
    try:
        outcome: tuple[str, Any] = ("ok", func(*args))
    except ConfigError as exc:
        outcome = ("faults", exc.faults)
    except Exception as exc:  # the parent keeps its running config and logs this
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    result.write(pickle.dumps(outcome))
    result.close()
