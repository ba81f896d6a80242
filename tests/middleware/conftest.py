"""The middleware a hospital's HIS runs on, for real: Tomcat on PostgreSQL, RabbitMQ, a simulated engine.

The test inventory puts them where a hospital would: the HIS registration web application runs on the
Tomcat, the LIS result queue is on the RabbitMQ broker of the integration platform, the interface engine
moves ADT and results between HIS and LIS. Its file_sd groups give each scrape its `ci` and `service`.
"""

from __future__ import annotations

import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from demo.servers.rabbitmq import RabbitMQ, rabbitmq
from demo.servers.tomcat import POSTGRES_JDBC, Tomcat, tomcat
from exporters.core.server import ExporterApp, RunningServer
from exporters.middleware.main import MiddlewareExporter
from hospmon.inventory import load_inventory
from hospmon.inventory.targets import target_groups
from tests.database.servers import postgres_server

QUEUES = ["lis.results", "his.orders"]
# The test HIS application: two JDBC pools on the test's PostgreSQL and pages that hold or free them.
APP = Path(__file__).parent / "tomcat_app"

INVENTORY = """
hospital: {{id: test-hospital, name: {{en: Test Hospital}}}}
departments:
  - {{id: ed, name: {{en: Emergency}}, criticality: critical}}
  - {{id: lab, name: {{en: Laboratory}}, criticality: high}}
  - {{id: outpatient, name: {{en: Outpatient clinics}}, criticality: high,
     hours: [{{days: [working_days], periods: ["08:00-12:00", "13:30-17:30"]}}]}}
  - {{id: it, name: {{en: IT}}, criticality: low}}
teams:
  - {{id: apps, name: {{en: Applications}}, members: [{{id: wang, name: {{en: Wang}}}}]}}
  - {{id: integration, name: {{en: Integration}}, members: [{{id: chen, name: {{en: Chen}}}}]}}
services:
  - {{id: his, name: {{en: HIS}}, tier: 1, team: apps, departments: [ed, outpatient]}}
  - {{id: integration, name: {{en: Integration platform}}, tier: 1, team: integration,
     departments: [ed, lab, outpatient]}}
cis:
  - {{id: his-tomcat-1, kind: application, service: his, department: it, vendor: Apache, model: Tomcat 10,
     monitor: [{{exporter: middleware, modules: [tomcat], target: "{tomcat}"}}]}}
  - {{id: his-registration, kind: application, service: his, department: outpatient,
     depends_on: [his-tomcat-1]}}
  - {{id: esb-mq-1, kind: application, service: integration, department: it, vendor: VMware,
     model: RabbitMQ 3.10, address: "{rabbitmq}", monitor: [{{exporter: native, modules: [rabbitmq]}}]}}
  - {{id: esb-engine-1, kind: interface_engine, service: integration, department: it,
     vendor: NextGen Healthcare, model: Mirth Connect 4.5,
     monitor: [{{exporter: middleware, modules: [mirth, esb], target: "{engine}"}}]}}
  - {{id: lis-results-interface, kind: interface_engine, service: integration, department: lab,
     depends_on: [esb-mq-1, esb-engine-1]}}
"""


def write_inventory(folder: Path, *, tomcat: str = "", rabbitmq: str = "", engine: str = "") -> Path:
    """Write the test inventory with the servers' addresses (unused ones get a closed loopback port)."""
    folder.mkdir(parents=True, exist_ok=True)
    closed = "127.0.0.1:1"
    text = INVENTORY.format(
        tomcat=tomcat or f"http://{closed}", rabbitmq=rabbitmq or closed, engine=engine or f"http://{closed}"
    )
    (folder / "inventory.yml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def jdbc_database() -> Iterator[dict[str, str]]:
    """A PostgreSQL database for the HIS application's pools, with its own account."""
    password = secrets.token_urlsafe(12)
    with postgres_server() as server:
        with server.admin() as conn:
            conn.execute(f"CREATE ROLE his_app LOGIN PASSWORD '{password}'")
        yield {
            "JDBC_URL": f"jdbc:postgresql://127.0.0.1:{server.port}/his",
            "JDBC_USER": "his_app",
            "JDBC_PASSWORD": password,
        }


@pytest.fixture(scope="session", name="tomcat")
def tomcat_fixture(
    tmp_path_factory: pytest.TempPathFactory, jdbc_database: dict[str, str]
) -> Iterator[Tomcat]:
    """Debian's Tomcat running the test HIS application."""
    workdir = tmp_path_factory.mktemp("tomcat")
    with tomcat(
        workdir, {"his": APP}, "/his/ready.txt", values=jdbc_database, libs=[POSTGRES_JDBC]
    ) as server:
        yield server


@pytest.fixture(scope="session", name="rabbitmq")
def rabbitmq_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQ]:
    """Debian's RabbitMQ with the test's queues."""
    with rabbitmq(tmp_path_factory.mktemp("rabbitmq"), QUEUES) as server:
        yield server


@pytest.fixture(scope="module")
def inventory_dir(tmp_path_factory: pytest.TempPathFactory, tomcat: Tomcat) -> Path:
    """The test inventory with the Tomcat's address."""
    return write_inventory(tmp_path_factory.mktemp("inventory"), tomcat=tomcat.url)


def scrape_labels(inventory: Path, ci: str) -> dict[str, str]:
    """Return the labels Prometheus gives a CI's scrapes from its file_sd group (no `__` ones)."""
    for groups in target_groups(load_inventory(inventory)).values():
        for group in groups:
            if group["labels"]["ci"] == ci:
                return {k: v for k, v in group["labels"].items() if not k.startswith("__")}
    raise AssertionError(f"{ci} has no target group")


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory, inventory_dir: Path, tomcat: Tomcat) -> Iterator[str]:
    """The middleware exporter, allowed the inventory's targets, with the Tomcat manager account."""
    folder = tmp_path_factory.mktemp("middleware")
    config: dict[str, Any] = {
        "inventory": str(inventory_dir),
        "auths": {
            "tomcat-jmx": {"basic": {"username": tomcat.user, "password_file": str(tomcat.password_file)}}
        },
        "modules": {"tomcat": {"kind": "tomcat", "http": {"auth": "tomcat-jmx"}}},
    }
    path = folder / "middleware.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with RunningServer(ExporterApp(MiddlewareExporter(), path), "127.0.0.1", 0) as server:
        yield server.url


def probe(exporter: str, target: str, module: str) -> tuple[int, str]:
    """GET /probe; return the status and the exposition (or the error text)."""
    query = urllib.parse.urlencode({"target": target, "module": module})
    request = urllib.request.Request(
        f"{exporter}/probe?{query}", headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples(exposition: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Return the samples named `name`, keyed by their sorted labels without `module`."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name:
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "module"))
                found[labels] = sample.value
    return found


def one(exposition: str, name: str, **labels: str) -> float:
    """Return the value of the one sample named `name` whose labels include `labels`."""
    matches = [v for k, v in samples(exposition, name).items() if set(labels.items()) <= set(k)]
    shown = "\n".join(x for x in exposition.splitlines() if x.startswith((name, "hospmon_probe")))
    assert len(matches) == 1, f"{name}{labels}: {len(matches)} samples in\n{shown}"
    return matches[0]
