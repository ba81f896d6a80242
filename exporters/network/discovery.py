"""Find SNMP agents in address ranges and read what a CI needs from each (``hospmon discover``).

Bounded on every side: at most `concurrency` addresses are asked at once, new addresses start at most `rate`
per second, and each address has its own deadline, so a silent /24 costs about 254 / rate seconds plus one
deadline, and a hung agent never holds the scan. Credentials are the network exporter's named auths, sent
only to ranges inside its config's ``adhoc_cidrs``, as its ``/probe`` would.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.device import Device, read_device
from exporters.network.exporter import SNMP_PORT, Runtime, open_session
from exporters.network.identify import Vendors
from hospmon.inventory.observed import Observation

MAX_ADDRESSES = 65536  # a /16; larger ranges are almost always a typo for a smaller one


@dataclass(frozen=True)
class Settings:
    """How hard discovery may push the network."""

    port: int = SNMP_PORT
    concurrency: int = 16
    rate: float = 50.0
    """New addresses started per second, at most."""
    deadline: float = 3.0
    """Seconds one address may take, every retry and walk included."""


@dataclass
class Scan:
    """The outcome of one discovery run."""

    scanned: list[str]
    auth: str
    devices: list[Device] = field(default_factory=list)
    silent: dict[str, str] = field(default_factory=dict)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def observation(self) -> Observation:
        """Return the run as the observation file's model."""
        return Observation(
            observed_at=self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            scanned=self.scanned,
            auth=self.auth,
            devices=self.devices,
            silent=self.silent,
        )


def addresses(ranges: Iterable[str]) -> list[str]:
    """Return the host addresses of CIDR ranges and single addresses; raise ValueError when too many."""
    out: list[str] = []
    for text in ranges:
        net = ipaddress.ip_network(text.strip(), strict=False)
        if net.num_addresses > MAX_ADDRESSES:
            raise ValueError(f"{text} holds {net.num_addresses} addresses; scan at most a /16 at a time")
        hosts = [net.network_address] if net.num_addresses == 1 else list(net.hosts())
        out.extend(str(h) for h in hosts)
        if len(out) > MAX_ADDRESSES:
            raise ValueError(f"the ranges hold more than {MAX_ADDRESSES} addresses; scan fewer at a time")
    return list(dict.fromkeys(out))


class Pacer:
    """Lets callers start no faster than `rate` per second, across threads."""

    def __init__(self, rate: float) -> None:
        self._gap = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller's turn."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self._gap
        if at > now:
            time.sleep(at - now)


def run_bounded(items: Iterable[str], work: Callable[[str], None], concurrency: int, rate: float) -> None:
    """Call `work` on every item from at most `concurrency` threads, starting at most `rate` per second."""
    pacer = Pacer(rate)
    source: Iterator[str] = iter(items)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                item = next(source, None)
            if item is None or errors:
                return
            pacer.wait()
            try:
                work(item)
            except BaseException as exc:  # re-raised in the caller's thread, not lost in a worker
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def discover(
    runtime: Runtime, ranges: list[str], auth: str, vendors: Vendors, settings: Settings = Settings()
) -> Scan:
    """Ask every address of `ranges` with the named auth and return the devices that answered."""
    if auth not in runtime.credentials:
        raise ValueError(f"unknown auth {auth!r}; known: {', '.join(sorted(runtime.credentials))}")
    nets = [ipaddress.ip_network(r.strip(), strict=False) for r in ranges]
    hosts = addresses(ranges)
    allowed = runtime.access.adhoc_cidrs
    for net in nets:
        # An auth's secrets go only where the config allows: the listed targets, or inside adhoc_cidrs.
        if not any(net.version == a.version and net.subnet_of(a) for a in allowed):  # type: ignore[arg-type]
            raise ValueError(
                f"{net} is not inside the network exporter's adhoc_cidrs, so its auths may not be sent "
                "there; add the range to adhoc_cidrs (with allow_adhoc_targets: true) in its config"
            )
    scan = Scan(scanned=[str(n) for n in nets], auth=auth)
    timeout = min(runtime.config.defaults.timeout, settings.deadline / 2)
    lock = threading.Lock()

    def probe(address: str) -> None:
        deadline = Deadline.after(settings.deadline)
        session = open_session(runtime, address, settings.port, auth, timeout=timeout, retries=1)
        try:
            device = read_device(session, address, deadline, vendors)
        except ProbeFailed as failed:
            with lock:
                scan.silent[address] = failed.reason
            return
        except OSError as exc:  # no route, address not available: this address, not the scan
            with lock:
                scan.silent[address] = f"network error: {exc.strerror or exc}"
            return
        finally:
            session.close()
        with lock:
            scan.devices.append(device)

    run_bounded(hosts, probe, settings.concurrency, settings.rate)
    scan.devices.sort(key=lambda d: ipaddress.ip_address(d.address))
    scan.silent = dict(sorted(scan.silent.items(), key=lambda kv: ipaddress.ip_address(kv[0])))
    return scan
