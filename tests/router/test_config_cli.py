"""Router config checks at start-up, and the ``hospmon router`` commands."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from alertrouter.cli import main as cli
from alertrouter.main import RouterServer
from alertrouter.main import main as serve
from alertrouter.settings import load_settings
from hospmon.config import ConfigError
from tests.router.conftest import REPO
from tests.router.payloads import alert, webhook


def test_faults_name_file_and_key(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    path = write_config(
        "sqlite:///x.db",
        channels=[{"name": "sms", "kind": "sms"}],
        colour="red",
        webhook_auth={"bearer_token_file": "token", "basic_auth": {"username": "am", "password_file": "p"}},
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert f"{path}: colour: unknown key" in text
    assert f"{path}: channels[sms]" in text and "a sms channel needs url" in text
    assert "give exactly one of bearer_token_file and basic_auth" in text


def test_missing_secret_and_bad_template(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    path = write_config("sqlite:///x.db", webhook_auth={"bearer_token_file": "nope"})
    with pytest.raises(ConfigError, match=r"webhook_auth.bearer_token_file: cannot read secret file"):
        load_settings(path)
    path = write_config(
        "sqlite:///x.db",
        channels=[{"name": "hook", "kind": "webhook", "url": "http://x/", "subject": "{priority} {patient}"}],
    )
    with pytest.raises(ConfigError, match="unknown fields patient"):
        load_settings(path)


def test_relative_sqlite_path_and_basic_auth(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    (tmp_path / "am-password").write_text("s3cret\n")
    path = write_config(
        "sqlite:///run/r.db", webhook_auth={"basic_auth": {"username": "am", "password_file": "am-password"}}
    )
    settings = load_settings(path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'run' / 'r.db'}"
    assert settings.basic_auth == ("am", "s3cret") and settings.bearer_token is None


def test_explain_prints_without_storing(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        [
            "router",
            "explain",
            str(REPO / "tests/router/payloads/firing-core-sw-1.json"),
            "--inventory",
            str(REPO / "demo/inventory"),
            "--policy",
            str(REPO / "rules/routing/policy.yml"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "CIProbeFailed on core-sw-1 (firing): P1: Emergency Department depends on core-sw-1" in out
    assert "ClinicalWebDown on his-web (firing)" in out
    assert "own incident, grouped under core-sw-1's (also in this payload): not paged while it fails" in out


@pytest.mark.parametrize(
    ("ci", "at", "first_line"),
    [
        # Sunday 22:00: the clinics are closed; the outpatient floor switch is nobody else's.
        ("acc-sw-op-2f", "2026-10-18T22:00",
         "CIProbeFailed on acc-sw-op-2f (firing): P3: Outpatient Clinics depends on acc-sw-op-2f (its own "
         "department); severity critical; tier 1 service Hospital Network; 22:00 on a weekend; closed now: "
         "Outpatient Clinics"),
        ("acc-sw-icu-5f", "2026-10-14T03:00",
         "CIProbeFailed on acc-sw-icu-5f (firing): P1: Intensive Care Unit depends on acc-sw-icu-5f (its own "
         "department); severity critical; tier 1 service Hospital Network; 03:00 on a working day"),
    ],
)  # fmt: skip
def test_explain_ranks_a_floor_switch_by_its_own_department(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ci: str, at: str, first_line: str
) -> None:
    payload = webhook(alert(ci, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), name="CIProbeFailed"))
    (tmp_path / "alert.json").write_text(json.dumps(payload))
    args = ["--inventory", str(REPO / "demo/inventory"), "--policy", str(REPO / "rules/routing/policy.yml")]
    assert cli(["router", "explain", str(tmp_path / "alert.json"), "--at", at, *args]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == first_line
    assert "Emergency" not in out


def test_explain_says_a_refused_password_is_not_the_switch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at = dt.datetime(2026, 10, 13, 18, 10, tzinfo=dt.UTC)
    payload = webhook(
        alert("core-sw-2", at, name="CIProbeFailed"),
        alert("his-db", at, name="DatabaseDown", extra={"failure": "network"}),
        alert("lis-db", at, name="DatabaseDown", extra={"failure": "auth"}),
    )
    (tmp_path / "alert.json").write_text(json.dumps(payload))
    args = ["--inventory", str(REPO / "demo/inventory"), "--policy", str(REPO / "rules/routing/policy.yml")]
    assert cli(["router", "explain", str(tmp_path / "alert.json"), *args]) == 0
    his, lis = capsys.readouterr().out.split("DatabaseDown on ")[1:]
    assert "grouped under core-sw-2's (also in this payload)" in his
    assert "its probe's failure is auth, which is not in the policy's reachability_failures" in lis


def test_db_upgrade_and_check(
    tmp_path: Path, write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(f"sqlite:///{tmp_path / 'r.db'}")
    assert cli(["router", "db", "upgrade", "--config", str(path)]) == 0
    assert (tmp_path / "r.db").exists()
    assert serve(["--config.file", str(path), "--check"]) == 0
    data = yaml.safe_load(path.read_text())
    data["policy"] = str(tmp_path / "missing.yml")
    path.write_text(yaml.safe_dump(data))
    assert serve(["--config.file", str(path), "--check"]) == 2
    assert "missing.yml: cannot read file" in capsys.readouterr().err


def test_explain_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text('{"version": "3", "alerts": []}')
    args = ["--inventory", str(REPO / "demo/inventory"), "--policy", str(REPO / "rules/routing/policy.yml")]
    assert cli(["router", "explain", str(tmp_path / "bad.json"), *args]) == 1
    assert 'version: expected "4"' in capsys.readouterr().err
    assert cli(["router", "explain", str(tmp_path / "bad.json"), "--inventory", "nope", "--policy", "x"]) == 2


def test_replicas_migrating_together_take_turns(postgres: Any, write_config: Callable[..., Path]) -> None:
    postgres.execute("CREATE DATABASE migrate_race")
    path = write_config(postgres.url("migrate_race"))
    # Separate processes, as replicas are: Alembic's context is one per process.
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "alertrouter.cli", "router", "db", "upgrade", "--config", str(path)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs


@pytest.mark.parametrize(
    ("overrides", "where", "fix"),
    [
        (
            {"database": {"url": "postgresql+psycopg://router:Hosp1tal!@db.hospital.internal/router"}},
            "database: url: holds a password",
            "database.password_file",
        ),
        (
            {"channels": [{"name": "board", "kind": "webhook", "url": "https://ops:pw@board.internal/hook"}]},
            "channels[board]: url: carries user credentials",
            "channels[board].url_file",
        ),
        (
            {
                "channels": [
                    {"name": "wx", "kind": "webhook", "url": "https://qyapi.example/send?key=693a91f6"}
                ]
            },
            "channels[wx]: url: carries a secret in its query parameter 'key'",
            "kind wecom/dingtalk with key_file",
        ),
        (
            {"channels": [{"name": "sms", "kind": "sms", "url": "http://gw.internal/send?user=hm&pwd=123"}]},
            "channels[sms]: url: carries a secret in its query parameter 'pwd'",
            "channels[sms].url_file",
        ),
        (
            {"alertmanager": {"url": "https://router:Hosp1tal!@alertmanager.hospital.internal:9093"}},
            "alertmanager: url: carries user credentials",
            "alertmanager.basic_auth (username, password_file) or alertmanager.bearer_token_file",
        ),
        (
            {"wards": {"prometheus_url": "http://monitor:Hosp1tal!@prometheus.hospital.internal:9090"}},
            "wards: prometheus_url: carries user credentials",
            "password_file) or wards.prometheus_auth.bearer_token_file",
        ),
        (
            {"channels": [{"name": "wx", "kind": "wecom", "key_file": "token",
                           "api_url": "https://relay:Hosp1tal!@wecom-relay.internal/cgi-bin/webhook/send"}]},
            "channels[wx]: api_url: carries user credentials",
            "channels[wx].key_file",
        ),
        (
            {"console_url": "https://ops:Hosp1tal!@router.hospital.internal"},
            "console_url: carries user credentials",
            "give the console's address only",
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("check", [["--check"], []], ids=["check", "start"])
def test_check_and_start_refuse_inline_secrets(
    write_config: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    overrides: dict[str, Any],
    where: str,
    fix: str,
    check: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A config let through must fail this test, not serve until the run is killed.
    monkeypatch.setattr(RouterServer, "run", lambda self: pytest.fail("served a careless config"))
    path = write_config("sqlite:///x.db", **overrides)
    assert serve(["--config.file", str(path), *check]) == 2  # refused before anything listens or migrates
    err = capsys.readouterr().err
    assert f"{path}: {where}" in err and fix in err
    assert "Hosp1tal!" not in err and "693a91f6" not in err  # the fault never repeats the secret


def test_a_short_status_token_is_refused(write_config: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "status-token").write_text("ward5\n")
    path = write_config("sqlite:///x.db", wards={"status_token_file": "status-token"})
    with pytest.raises(ConfigError, match=r"wards.status_token_file: write a token of 16\+ random"):
        load_settings(path)


def test_shipped_router_configs_have_no_inline_secret(tmp_path: Path) -> None:
    from alertrouter.secrets_check import inline_secrets
    from alertrouter.settings import RouterFile
    from demo.parts.router import config as demo_config
    from hospmon.config import load

    shipped = REPO / "deploy/router/router.yml"
    assert inline_secrets(load(RouterFile, shipped, id_field="name"), shipped) == []
    for mail in (False, True):
        demo = RouterFile.model_validate(demo_config(tmp_path, REPO / "demo/inventory", mail=mail))
        assert inline_secrets(demo, "demo") == []
