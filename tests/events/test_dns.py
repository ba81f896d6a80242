"""Inventory addresses given as DNS names: the receiver resolves them at start-up and on each reload, through
the hospital's DNS (a real dnsmasq on loopback, no upstream) or the system's resolver, and refuses a name
that does not resolve, naming the CI."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from exporters.core.server import ExporterApp
from exporters.events.config import load_config
from exporters.events.main import EventReceiver
from exporters.events.resolve import DnsSettings, Unresolved, resolve_names
from tests.events.conftest import REPO, receiver_config
from tests.reach.peers import HIS_ADDRESSES, HIS_NAME, dnsmasq

# The HIS web front end's load balancer, entered in the inventory by its DNS name.
NAMED_CI = f'cis:\n  - {{id: his-lb-1, kind: server, service: his, address: "{HIS_NAME}:443"}}\n'


@pytest.fixture(scope="module")
def dns_port() -> Iterator[int]:
    """Run dnsmasq answering the HIS name (and NXDOMAIN for other .internal names)."""
    with dnsmasq() as port:
        yield port


def _config(tmp_path: Path, dns_port: int, extra_cis: str = NAMED_CI) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "demo" / "inventory", inventory)
    (inventory / "99-named.yml").write_text(extra_cis)
    config = receiver_config(
        tmp_path, 9, inventory=str(inventory), dns={"servers": [f"127.0.0.1:{dns_port}"]}
    )
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_ci_entered_by_name_owns_the_addresses_its_name_resolves_to(tmp_path: Path, dns_port: int) -> None:
    sources = load_config(_config(tmp_path, dns_port)).sources
    assert {a: sources.lookup(a) for a in HIS_ADDRESSES} == dict.fromkeys(HIS_ADDRESSES, "his-lb-1")


def test_a_name_that_stops_resolving_is_refused_and_a_reload_keeps_the_running_map(
    tmp_path: Path, dns_port: int
) -> None:
    path = _config(tmp_path, dns_port)
    app = ExporterApp(EventReceiver(), path)
    running = app.config
    gone = (
        NAMED_CI
        + '  - {id: pacs-gw-old, kind: server, service: pacs, address: "pacs-gw.hospital.internal"}\n'
    )
    (tmp_path / "inventory" / "99-named.yml").write_text(gone)
    error = app.reload()
    assert error is not None
    assert (
        f"{tmp_path / 'inventory'}: cis[pacs-gw-old]: address: 'pacs-gw.hospital.internal' does not resolve: "
        f"no such name (NXDOMAIN from 127.0.0.1:{dns_port}); give its IP address, or fix the name in DNS"
    ) in error
    assert app.config is running and running.sources.lookup(HIS_ADDRESSES[0]) == "his-lb-1"


def test_a_silent_dns_server_bounds_the_load_and_the_system_resolver_reads_hosts() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives queries, never answers
        settings = DnsSettings(servers=[f"127.0.0.1:{silent.getsockname()[1]}"], timeout_seconds=0.5)
        result = resolve_names([HIS_NAME], settings)[HIS_NAME]
    assert isinstance(result, Unresolved) and "within 0.5 s" in str(result)
    # No dns.servers: the system's resolver, here answering from /etc/hosts without a query.
    assert "127.0.0.1" in resolve_names(["localhost"], DnsSettings())["localhost"]  # type: ignore[operator]
