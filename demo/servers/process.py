"""Start a program, wait until it is ready, stop it by its own PID: what every private server shares."""

from __future__ import annotations

import gc
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Program -> the Debian package that installs it (deps/apt.txt lists them all).
PACKAGES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "dcmqrscp": "dcmtk",
    "storescp": "dcmtk",
    "echoscu": "dcmtk",
    "Orthanc": "orthanc",
    "mariadbd": "mariadb-server",
    "mariadb-install-db": "mariadb-server",
    "snmpd": "snmpd",
    "snmpget": "snmp",
    "clamd": "clamav-daemon",
    "rsyslogd": "rsyslog",
    "java": "tomcat10",  # Tomcat's Java runtime (demo.servers.tomcat)
    "epmd": "erlang-base",  # RabbitMQ's Erlang port mapper (demo.servers.rabbitmq)
}


class MissingProgram(RuntimeError):
    """A server's program is not installed; the message names the package."""


def require(program: str) -> str:
    """Return the path of a program (also looked for in /usr/sbin), or raise `MissingProgram`."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if path is None:
        package = PACKAGES.get(program, program)
        raise MissingProgram(f"{program} is not installed: apt-get install {package} (make deps installs it)")
    return path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether something accepts TCP connections on `host`:`port`."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET a URL; return the status (0 when nothing answered) and the body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our own loopback URLs
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def log_tail(log: Path | None, size: int = 3000) -> str:
    """Return the end of a server's log, or nothing when there is none."""
    if log is None or not log.exists():
        return ""
    return log.read_text(encoding="utf-8", errors="replace")[-size:]


def wait_until(
    check: Callable[[], Any],
    what: str,
    timeout: float = 60.0,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    interval: float = 0.1,
) -> Any:
    """Poll `check` until it returns something truthy without raising; raise with the log if it never does."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: exited with {proc.returncode}\n{log_tail(log)}")
        with warnings.catch_warnings():
            # A refused connect may leave its socket to the garbage collector (pymysql does, on a Unix
            # socket); collect it here, quietly. Keep only the error's text: the exception's traceback
            # holds that socket, which would otherwise be freed later, loudly, failing an unrelated test.
            warnings.simplefilter("ignore", ResourceWarning)
            failed = False
            try:
                result = check()
            except Exception as exc:  # not ready yet: connection refused, reset, ...
                last, result, failed = str(exc), None, True
            if failed:
                gc.collect()
        if result:
            return result
        if time.monotonic() > deadline:
            reason = f" (last error: {last})" if last else ""
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s{reason}\n{log_tail(log)}")
        time.sleep(interval)


def terminate(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def start(
    argv: Sequence[str], log: Path, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a program with its output in `log` (appended) and no standard input."""
    with log.open("ab") as out:
        return subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


@contextmanager
def running(
    argv: Sequence[str],
    ready: Callable[[], Any],
    log: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a program until the block ends, once `ready` holds; stop it by its PID afterwards."""
    proc = start(argv, log, cwd, env)
    try:
        wait_until(ready, Path(argv[0]).name, timeout, proc, log)
        yield proc
    finally:
        terminate(proc)


def http_ready(url: str) -> Callable[[], bool]:
    """Return a check that holds once `url` answers 200."""
    return lambda: http_get(url, timeout=1)[0] == 200
