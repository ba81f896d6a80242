"""Recordings of real devices (snmpsim's examples: a Cisco 3750 switch, a Linux host, a Windows XP host)
and recordings the tests build from vendors' MIB structure (`tests.network.devices`), served by Debian's
``snmpsimd``, and a reader of their ``.snmprec`` files so that tests compare values with the recording."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from demo.servers.snmpd import free_udp_port

EXAMPLES = Path("/usr/share/doc/snmpsim/examples/data")
RECORDINGS = {
    "cisco_16_switch": "cisco_16_switch.snmprec.gz",
    "linux-full-walk": "recorded/linux-full-walk.snmprec.gz",
    "winxp-full-walk": "recorded/winxp-full-walk.snmprec.gz",  # no ifXTable, as on many old agents
}
Recording = dict[str, tuple[str, str]]


def read_snmprec(name: str) -> Recording:
    """Return ``{oid: (type, value)}`` of a recording; ``4x`` strings are decoded from hex."""
    from tests.network.devices import BUILT

    if name in BUILT:
        return parse_snmprec(BUILT[name]().splitlines())
    with gzip.open(EXAMPLES / RECORDINGS[name], "rt", encoding="utf-8") as f:
        return parse_snmprec(f)


def parse_snmprec(lines: Iterable[str]) -> Recording:
    """Return ``{oid: (type, value)}`` of ``.snmprec`` lines; ``4x`` strings are decoded from hex."""
    out: Recording = {}
    for line in lines:
        oid, kind, value = line.rstrip("\n").split("|", 2)
        if kind == "4x":
            kind, value = "4", bytes.fromhex(value).decode("utf-8", "replace")
        out[oid] = (kind, value)
    return out


def column(recording: Recording, oid: str) -> dict[str, str]:
    """Return ``{index: value}`` of one column of a recording."""
    prefix = oid + "."
    return {k[len(prefix) :]: v for k, (_, v) in recording.items() if k.startswith(prefix)}


@contextmanager
def snmpsimd() -> Iterator[str]:
    """Serve the recordings on a free loopback port (community = recording name); yield ``host:port``."""
    program = shutil.which("snmpsimd")
    if program is None or not EXAMPLES.is_dir():
        raise RuntimeError("Debian's snmpsim is required: apt-get install snmpsim")
    work = Path(tempfile.mkdtemp(prefix="hm-snmpsim-"))
    data, cache = work / "data", work / "cache"
    data.mkdir()
    cache.mkdir()
    for name, path in RECORDINGS.items():
        with gzip.open(EXAMPLES / path, "rb") as src:
            (data / f"{name}.snmprec").write_bytes(src.read())
    from tests.network.devices import BUILT

    for name, build in BUILT.items():
        (data / f"{name}.snmprec").write_text(build(), encoding="utf-8")
    for path in (work, data, cache, *data.iterdir()):
        path.chmod(0o777 if path.is_dir() else 0o644)  # snmpsimd drops privileges to nobody
    port = free_udp_port()
    proc = subprocess.Popen(
        [program, f"--data-dir={data}", f"--cache-dir={cache}", f"--agent-udpv4-endpoint=127.0.0.1:{port}",
         "--process-user=nobody", "--process-group=nogroup", "--logging-method=null"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        probe = [
            "snmpget",
            "-v2c",
            "-c",
            "cisco_16_switch",
            "-t",
            "0.5",
            "-r",
            "0",
            f"127.0.0.1:{port}",
            "1.3.6.1.2.1.1.5.0",
        ]
        for _ in range(60):  # readiness: indexing the recordings takes a few seconds on first start
            if proc.poll() is not None:
                raise RuntimeError(f"snmpsimd exited with {proc.returncode}")
            if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
                break
        else:
            raise RuntimeError("snmpsimd did not answer within 30 s")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
