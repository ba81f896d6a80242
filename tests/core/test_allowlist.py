"""Every exporter probes only the targets its config or the inventory lists, with the auth listed there.

The issue's attack was an unauthenticated ``GET /probe?target=ATTACKER:5432&auth=monitor``: each exporter
must answer 400 before it opens a socket, and a listed target gets only the modules and auth it is listed
with, so a community, a database password or a bearer token never goes where it was not configured to.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from exporters.core.probe import BadRequest, Exporter
from exporters.core.server import ExporterApp, RunningServer
from exporters.database.exporter import DatabaseExporter
from exporters.emr.main import EmrExporter
from exporters.his.main import HisExporter
from exporters.lis.main import LisExporter
from exporters.network.exporter import NetworkExporter
from exporters.pacs.main import PacsExporter
from exporters.reach.main import ReachExporter
from tests.conftest import REPO
from tests.servers import http_get

SECRET = "secrets/pw"
CASES: list[tuple[type[Exporter[Any]], str, str]] = [
    (
        NetworkExporter,
        f"auths: {{lab: {{version: 2, community_file: {SECRET}}}}}\n",
        "target=127.0.0.1:161&module=system&auth=lab",
    ),
    (
        DatabaseExporter,
        f"auths: {{monitor: {{user: hospmon, password_file: {SECRET}, engine: postgres}}}}\n",
        "target=127.0.0.1:5432&auth=monitor",
    ),
    (
        HisExporter,
        "auths: {api: {bearer: {token_file: " + SECRET + "}}}\n"
        "modules: {api: {kind: http, http: {auth: api}}}\n",
        "target=http://127.0.0.1:8080&module=api",
    ),
    (
        EmrExporter,
        "modules: {meta: {kind: fhir_metadata}}\n",
        "target=http://127.0.0.1:8080/fhir&module=meta",
    ),
    (LisExporter, "modules: {mllp: {}}\n", "target=127.0.0.1:2575&module=mllp"),
    (PacsExporter, "modules: {echo: {}}\n", "target=ARCHIVE@127.0.0.1:104&module=echo"),
    (ReachExporter, "modules: {ping: {kind: icmp}}\n", "target=127.0.0.1&module=ping"),
]


@pytest.mark.parametrize(("exporter", "config", "query"), CASES, ids=[c[0].name for c in CASES])
def test_an_unlisted_target_gets_400_by_default(
    tmp_path: Path, exporter: type[Exporter[Any]], config: str, query: str
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / SECRET).write_text("s3cret\n")
    path = tmp_path / "exporter.yml"
    path.write_text(config.replace(SECRET, str(tmp_path / SECRET)))
    with RunningServer(ExporterApp(exporter(), path), "127.0.0.1", 0) as server:
        status, body = http_get(f"{server.url}/probe?{query}")
    assert status == 400
    assert b"is not in this exporter's targets or inventory" in body


def _network_app(tmp_path: Path, extra: str) -> ExporterApp:
    (tmp_path / "secrets").mkdir(exist_ok=True)
    (tmp_path / "secrets" / "community").write_text("public\n")
    inventory = tmp_path / "inventory"
    if not inventory.exists():
        shutil.copytree(REPO / "demo" / "inventory", inventory)
    (tmp_path / "exporters").mkdir(exist_ok=True)
    path = tmp_path / "exporters" / "network.yml"
    path.write_text(
        "inventory: ../inventory\n"
        f"auths:\n  public_v2: {{version: 2, community_file: {tmp_path}/secrets/community}}\n"
        f"  core_v2: {{version: 2, community_file: {tmp_path}/secrets/community}}\n" + extra
    )
    return ExporterApp(NetworkExporter(), path)


def test_the_inventory_binds_each_target_to_its_modules_and_auth(tmp_path: Path) -> None:
    app = _network_app(tmp_path, "")
    # core-sw-1 is monitored with system, if_mib and huawei under public_v2: as Prometheus asks, it passes.
    app.parse_probe("target=127.0.0.1:11161&module=system&auth=public_v2", app.config)
    with pytest.raises(BadRequest, match="not configured for module system with auth core_v2"):
        app.parse_probe("target=127.0.0.1:11161&module=system&auth=core_v2", app.config)
    with pytest.raises(BadRequest, match="not configured for module ups"):
        app.parse_probe("target=127.0.0.1:11161&module=ups&auth=public_v2", app.config)
    with pytest.raises(BadRequest, match="not in this exporter's targets or inventory"):
        app.parse_probe("target=127.0.0.1:11199&module=system&auth=public_v2", app.config)


def test_ad_hoc_targets_stay_inside_their_networks(tmp_path: Path) -> None:
    app = _network_app(tmp_path, "allow_adhoc_targets: true\nadhoc_cidrs: [127.0.5.0/24]\n")
    app.parse_probe("target=127.0.5.9:1161&module=system&auth=core_v2", app.config)
    with pytest.raises(BadRequest, match="outside adhoc_cidrs"):
        app.parse_probe("target=127.0.6.9:1161&module=system&auth=core_v2", app.config)
    with pytest.raises(BadRequest, match="must be an IP address"):
        app.parse_probe("target=switch.attacker.example&module=system&auth=core_v2", app.config)
