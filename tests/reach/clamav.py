"""Debian's clamd on loopback with a signature database the test builds: one signature, a chosen version and
build time, so that "how old are the signatures" has a known answer. freshclam never runs: nothing is
fetched, and the database is an unsigned one (``.cud``, as ``sigtool --unsigned`` builds) that clamd loads
like the official daily database."""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.peers import tcp_process
from tests.servers import free_port, require

SAMPLE = b"hospmon test file: not a virus\n"  # the one thing the test database detects


@dataclass(frozen=True)
class Clamd:
    """A running clamd: its port and the database it loaded."""

    port: int
    db_version: int
    db_time: int

    @property
    def target(self) -> str:
        """Return ``127.0.0.1:port``."""
        return f"127.0.0.1:{self.port}"


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def daily_database(version: int, built: int) -> bytes:
    """Return a ``daily.cud`` with one MD5 signature, database `version`, built at Unix time `built`."""
    hdb = f"{hashlib.md5(SAMPLE).hexdigest()}:{len(SAMPLE)}:Hospmon.Test.Sample\n".encode()
    stamp = time.strftime("%d %b %Y %H-%M +0000", time.gmtime(built))
    head = f"ClamAV-VDB:{stamp}:{version}:1:90"
    info = f"{head}:X:X:hospmon-tests:{built}\ndaily.hdb:{len(hdb)}:{hashlib.sha256(hdb).hexdigest()}\n"
    body = io.BytesIO()
    with tarfile.open(fileobj=body, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        _member(tar, "COPYING", b"Test database for hospmon; no official signatures.\n")
        _member(tar, "daily.info", info.encode())
        _member(tar, "daily.hdb", hdb)
    archive = body.getvalue()
    header = f"{head}:{hashlib.md5(archive).hexdigest()}:X:hospmon-tests:{built}".encode()
    return header.ljust(512, b" ") + archive


@contextmanager
def clamd(folder: Path, *, version: int, age_days: float, zone: str = "Asia/Shanghai") -> Iterator[Clamd]:
    """Run clamd on 127.0.0.1 with signatures `age_days` old, in time zone `zone`, until the block ends."""
    program = require("clamd")
    built = int(time.time() - age_days * 86400)
    (folder / "db").mkdir(parents=True)
    (folder / "db" / "daily.cud").write_bytes(daily_database(version, built))
    port = free_port()
    conf = folder / "clamd.conf"
    conf.write_text(
        f"Foreground yes\nDatabaseDirectory {folder / 'db'}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n"
        f"LogFile {folder / 'clamd.log'}\nPidFile {folder / 'clamd.pid'}\nTemporaryDirectory {folder}\n"
    )
    argv = ["env", f"TZ={zone}", program, "--config-file", str(conf)]
    with tcp_process(argv, port, folder / "clamd.out"):
        yield Clamd(port, version, built)
