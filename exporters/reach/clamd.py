"""ClamAV's scanning daemon (clamd) on its TCP port: is the engine up, and how old are its signatures?

Mail gateways, the HIS's and the internet portal's upload paths and file servers scan with clamd; when it
stops, or when freshclam has not reached the hospital's signature mirror for days, nothing says so. Two
commands of clamd's documented socket protocol (``man clamd``), each on its own connection as clamd closes
after one: ``zVERSION`` answers ``ClamAV 1.4.6/27001/Mon Dec  7 03:42:12 2026`` (engine, daily signature
database version, its build time in the clamd host's local time), ``zSTATS`` the thread pool and queue::

    hospmon_antivirus_engine_info{module="clamav",engine="ClamAV",version="1.4.6"} 1
    hospmon_antivirus_signature_version{module="clamav",database="daily"} 27001
    hospmon_antivirus_signature_timestamp_seconds{module="clamav",database="daily"} 1.7966e+09
    hospmon_antivirus_threads{module="clamav",state="live"} 1
    hospmon_antivirus_queue_items{module="clamav"} 0

Nothing of what clamd says is logged or put in a label but its engine name and version.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import time
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.probe import Deadline, ProbeFailed
from exporters.core.target import split_target
from exporters.reach.config import ClamdSpec
from exporters.reach.resolve import resolve
from exporters.reach.tcp import budget, connect

PHASES = ("resolve", "connect", "exchange")
MONTHS = {
    m: n
    for n, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}  # ctime()'s English names, whatever the exporter's locale
# "ClamAV 1.4.6/27001/Mon Dec  7 03:42:12 2026"; without a daily database only "ClamAV 1.4.6".
_VERSION = re.compile(
    r"(?P<engine>[A-Za-z]{1,20}) (?P<version>[0-9][0-9A-Za-z.+~-]{0,30})"
    r"(?:/(?P<db>\d{1,9})/\w{3} (?P<mon>\w{3}) +(?P<day>\d{1,2}) (?P<hms>\d\d:\d\d:\d\d) (?P<year>\d{4}))?"
)
_THREADS = re.compile(rb"THREADS: live (\d+) +idle (\d+) max (\d+)")
_QUEUE = re.compile(rb"QUEUE: (\d+) items")
MAX_ANSWER = 64 * 1024


@dataclass
class ClamdResult:
    """What one probe learnt."""

    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    engine: tuple[str, str] | None = None
    db_version: int | None = None
    db_time: float | None = None
    threads: dict[str, int] = field(default_factory=dict)
    queue: int | None = None


def clamd_probe(target: str, spec: ClamdSpec, deadline: Deadline, result: ClamdResult) -> ClamdResult:
    """Ask clamd at `target` (``host[:port]``) for its version and statistics."""
    host, port = split_target(target)
    start = time.perf_counter()
    family, address = resolve(host, port or spec.port, "ip4", deadline)
    result.phases["resolve"] = time.perf_counter() - start
    version = _command(family, address, b"zVERSION\0", spec, deadline, result).decode("ascii", "replace")
    match = _VERSION.fullmatch(version.strip())
    if match is None:
        raise ProbeFailed("bad_response", "the peer's VERSION answer is not clamd's")
    result.engine = (match["engine"], match["version"])
    if match["db"] is None:
        raise ProbeFailed("check_failed", "clamd runs without a daily signature database")
    result.db_version = int(match["db"])
    result.db_time = _build_time(match, spec.timezone)
    stats = _command(family, address, b"zSTATS\0", spec, deadline, result)
    threads = _THREADS.search(stats)
    queue = _QUEUE.search(stats)
    if threads is None or queue is None:
        raise ProbeFailed("bad_response", "the peer's STATS answer is not clamd's")
    result.threads = dict(zip(("live", "idle", "max"), map(int, threads.groups()), strict=True))
    result.queue = int(queue[1])
    return result


def _build_time(match: re.Match[str], timezone: str) -> float | None:
    """Read clamd's ctime() text in the clamd host's zone; None when it is not a date."""
    month = MONTHS.get(match["mon"])
    hour, minute, second = map(int, match["hms"].split(":"))
    if month is None:
        return None
    try:
        local = dt.datetime(int(match["year"]), month, int(match["day"]), hour, minute, second)
    except ValueError:
        return None
    return local.replace(tzinfo=zoneinfo.ZoneInfo(timezone)).timestamp()


def _command(
    family: int,
    address: tuple[object, ...],
    command: bytes,
    spec: ClamdSpec,
    deadline: Deadline,
    result: ClamdResult,
) -> bytes:
    """Send one null-terminated command on a new connection; return the answer up to its null byte."""
    start = time.perf_counter()
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        connect(sock, address, deadline, spec.timeout_seconds)
        result.phases["connect"] += time.perf_counter() - start
        start = time.perf_counter()
        answer = b""
        try:
            sock.sendall(command)
            while not answer.endswith(b"\0") and len(answer) < MAX_ANSWER:
                sock.settimeout(budget(deadline, spec.timeout_seconds, command[1:-1].decode()))
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            raise ProbeFailed("timeout", f"no answer to {command[1:-1].decode()} in time") from None
        except OSError as exc:
            raise ProbeFailed("rejected", f"connection reset: {exc.strerror}") from None
        result.phases["exchange"] += time.perf_counter() - start
    if not answer.endswith(b"\0"):
        raise ProbeFailed("bad_response", f"the answer to {command[1:-1].decode()} did not end")
    return answer[:-1]


def _family(name: str, documentation: str, labels: list[str], rows: Mapping[Sequence[str], float]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, number in rows.items():
        family.add_metric(list(values), number)
    return family


def clamd_metrics(module: str, result: ClamdResult) -> list[Metric]:
    """Return the phases and whatever the probe learnt of the engine, its signatures and its load."""
    out = [
        _family(
            "hospmon_antivirus_phase_duration_seconds",
            "Time spent in each phase of the probe (connect and exchange summed over its commands).",
            ["module", "phase"],
            {(module, phase): seconds for phase, seconds in result.phases.items()},
        )
    ]
    if result.engine is not None:
        labels = ["module", "engine", "version"]
        rows: dict[Sequence[str], float] = {(module, *result.engine): 1.0}
        out.append(
            _family("hospmon_antivirus_engine_info", "The scanning engine and its version.", labels, rows)
        )
    db = (module, "daily")
    if result.db_version is not None:
        out.append(
            _family(
                "hospmon_antivirus_signature_version",
                "Version of the signature database the engine has loaded.",
                ["module", "database"],
                {db: result.db_version},
            )
        )
    if result.db_time is not None:
        out.append(
            _family(
                "hospmon_antivirus_signature_timestamp_seconds",
                "When the signature database the engine has loaded was built (Unix time).",
                ["module", "database"],
                {db: result.db_time},
            )
        )
    if result.threads:
        out.append(
            _family(
                "hospmon_antivirus_threads",
                "Scanning threads: live (busy), idle, and the most the engine may run.",
                ["module", "state"],
                {(module, state): count for state, count in result.threads.items()},
            )
        )
    if result.queue is not None:
        out.append(
            _family(
                "hospmon_antivirus_queue_items",
                "Scan requests waiting for a thread.",
                ["module"],
                {(module,): result.queue},
            )
        )
    return out
