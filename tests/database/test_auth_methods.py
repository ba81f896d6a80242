"""The monitoring password never reaches a server that asks for it in clear.

The issue's attack: someone points the exporter at a host of theirs that answers like PostgreSQL or MySQL
and asks for the password in clear. Even for a listed target (a compromised or impersonated database
server), the exporter refuses the method before the password is written to the socket.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.core.probe import Deadline, ProbeFailed, ProbeRequest
from exporters.database.exporter import DatabaseExporter
from hospmon.config import ConfigError
from tests.database.impostors import impostor

PASSWORD = "monitor-S3cret-never-in-clear"


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_a_server_asking_for_a_cleartext_password_never_receives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    monkeypatch.setenv("HOSPMON_TEST_IMPOSTOR_PW", PASSWORD)
    with impostor(engine) as server:
        port = server.server_address[1]
        path = tmp_path / "database.yml"
        path.write_text(
            "auths:\n  monitor: {user: hospmon, password_env: HOSPMON_TEST_IMPOSTOR_PW}\n"
            f"connections:\n  his-db: {{engine: {engine}, host: 127.0.0.1, port: {port}, auth: monitor}}\n"
        )
        exporter = DatabaseExporter()
        config = exporter.load_config(path)
        request = ProbeRequest("his-db", ("health",))
        try:
            with pytest.raises(ProbeFailed) as failed:
                list(exporter.probe_module(config, request, "health", Deadline.after(8)))
        finally:
            exporter.close(config)
        with server.lock:
            received = bytes(server.received)
    assert b"hospmon" in received  # the client did talk to it: the user name went out
    assert PASSWORD.encode() not in received
    assert failed.value.reason == "auth"
    assert "clear" in failed.value.detail or "other than scram-sha-256" in failed.value.detail


def test_only_stronger_postgres_methods_may_be_configured(tmp_path: Path) -> None:
    path = tmp_path / "database.yml"
    path.write_text(
        "auths:\n  monitor: {user: hospmon, password_env: HOME}\n"
        "connections:\n  his-db: {engine: postgres, host: 10.0.0.5, auth: monitor, pg_require_auth: md5}\n"
    )
    with pytest.raises(ConfigError, match=r"connections\.his-db: pg_require_auth"):
        DatabaseExporter().load_config(path)
