"""``--check-config`` refuses a secret written into an exporter config, naming the file, key and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exporters.core.cli import serve
from exporters.core.probe import Exporter
from exporters.database.exporter import DatabaseExporter
from exporters.emr.main import EmrExporter
from exporters.network.exporter import NetworkExporter
from exporters.reach.main import ReachExporter

CASES: list[tuple[type[Exporter[Any]], str, str, str]] = [
    (
        NetworkExporter,
        "auths:\n  ward: {version: 2, community: wardsw1tch}\n",
        "auths.ward: community",
        "community_file",
    ),
    (
        DatabaseExporter,
        "auths:\n  monitor: {user: hospmon, password: Monitor123}\n",
        "auths.monitor: password",
        "password_file",
    ),
    (
        EmrExporter,
        "auths:\n  fhir: {bearer: {token: eyJhbGciOi}}\nmodules: {meta: {kind: fhir_metadata}}\n",
        "auths.fhir.bearer: token",
        "token_file",
    ),
    (
        ReachExporter,
        "auths:\n  kiosk: {bearer: {token: eyJhbGciOi}}\n"
        "modules: {status: {kind: http, http: {auth: kiosk}}}\n",
        "auths.kiosk.bearer: token",
        "token_file",
    ),
]


@pytest.mark.parametrize(("exporter", "config", "where", "fix"), CASES, ids=[c[0].name for c in CASES])
def test_check_config_refuses_an_inline_secret(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    exporter: type[Exporter[Any]],
    config: str,
    where: str,
    fix: str,
) -> None:
    path = tmp_path / "exporter.yml"
    path.write_text(config)
    assert serve(exporter(), [f"--config.file={path}", "--check-config"]) == 1
    err = capsys.readouterr().err
    assert f"{path}: {where}" in err and fix in err
    for secret in ("wardsw1tch", "Monitor123", "eyJhbGciOi"):
        assert secret not in err  # the message names the key, never echoes the secret
