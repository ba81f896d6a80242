"""The event receiver's Alertmanager asks for basic auth; the receiver's password sits in a file, never in
the URL. The ED access switch reports a port down over syslog: the alert reaches the guarded Alertmanager."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from exporters.core.server import RunningServer
from tests.events.conftest import receiver_config, start_receiver, wait
from tests.servers import guarded_alertmanager

PASSWORD = "am-events-password-52e1a0"
AM_CONFIG = "route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[RunningServer, str, int]]:
    """The receiver sending to an Alertmanager that answers only ``events`` with `PASSWORD`."""
    with guarded_alertmanager(AM_CONFIG, tmp_path / "am", "events", PASSWORD) as am:
        (tmp_path / "am-password").write_text(PASSWORD + "\n")
        basic = {"username": "events", "password_file": str(tmp_path / "am-password")}
        config = receiver_config(tmp_path, 9, snmp={"listen": ""})
        config["alertmanager"].update(urls=[am], basic_auth=basic)
        (tmp_path / "events.yml").write_text(yaml.safe_dump(config))
        server = start_receiver(tmp_path / "events.yml")
        try:
            yield server, am, int(config["syslog"]["udp"].rsplit(":", 1)[1])
        finally:
            server.stop()


def test_a_syslog_alert_reaches_alertmanager_with_the_password_from_its_file(
    receiver: tuple[RunningServer, str, int],
) -> None:
    server, am, port = receiver
    assert requests.get(f"{am}/api/v2/alerts", timeout=5).status_code == 401  # the guard is real
    down = "%%01IFPDT/4/IF_STATE(l)[12]:Interface GigabitEthernet0/0/7 has turned into DOWN state."
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # from 127.0.0.1: the ED switch
        sock.sendto(f"<188>Dec  7 02:10:00 ACC-SW-ED-1F {down}".encode(), ("127.0.0.1", port))

    def arrived() -> list[str]:
        alerts = requests.get(f"{am}/api/v2/alerts", auth=("events", PASSWORD), timeout=5).json()
        return [a["labels"]["alertname"] for a in alerts if a["labels"].get("ci") == "acc-sw-ed-1f"]

    assert wait(arrived, "the alert in the guarded Alertmanager") == ["NetworkLinkDown"]
    assert PASSWORD not in requests.get(f"{server.url}/metrics", timeout=5).text
