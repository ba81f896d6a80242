"""The demo's devices: a UPS on battery and back, a flapping switch port, as the demo's receiver sees them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from demo.launcher import DEMO_INVENTORY
from demo.parts import events as demo_events
from exporters.events.config import load_config
from tests.events.conftest import free_tcp_port, free_udp_port, start_receiver, wait


def test_the_demo_receiver_config_is_valid_and_names_the_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    receiver, devices = demo_events.parts(run, DEMO_INVENTORY)
    assert receiver.name == "event-receiver" and devices.name == "event-devices"
    assert receiver.cwd == run / "events"
    monkeypatch.chdir(run / "events")  # secrets/ is read from the receiver's working folder
    assert devices.ready_url.endswith("/ready")  # the devices wait for the scripted morning's requests
    config = load_config(run / "events" / "events.yml")
    # `make demo` maps the devices as docker-compose.yml does: through the shipped config's sources.
    assert {a: config.sources.lookup(a) for a in demo_events.DEVICES} == demo_events.DEVICES
    assert demo_events.DEVICES == {
        demo_events.UPS_SOURCE: "ups-mr1-01",
        demo_events.SWITCH_SOURCE: "agg-sw-inpatient",
    }
    assert config.settings.snmp.listen == f"127.0.0.1:{demo_events.TRAPS}"


def test_the_ups_goes_on_battery_and_back_and_the_flapping_port_is_one_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    demo_events.parts(run, DEMO_INVENTORY)
    config = yaml.safe_load((run / "events" / "events.yml").read_text())
    traps, syslog = free_udp_port(), free_tcp_port()
    config["snmp"]["listen"] = f"127.0.0.1:{traps}"
    config["syslog"] = {"udp": "", "tcp": f"127.0.0.1:{syslog}"}
    config["alertmanager"]["urls"] = [f"http://127.0.0.1:{free_tcp_port()}"]  # nobody there: it queues
    config["defaults"] = {"flap_hold_seconds": 2, "flush_seconds": 0.2}
    config["snmp"]["communities"][0]["community_file"] = str(run / "events" / "secrets" / "trap-community")
    (run / "events" / "events.yml").write_text(yaml.safe_dump(config))
    monkeypatch.setattr(demo_events, "TRAPS", traps)
    monkeypatch.setattr(demo_events, "SYSLOG", syslog)
    server = start_receiver(run / "events" / "events.yml")
    try:
        exporter = server.app.exporter
        book = exporter.receiver.book  # type: ignore[attr-defined]
        community = (run / "events" / "secrets" / "trap-community").read_text().strip()
        stop = threading.Event()
        demo_events.ups_on_battery(community, 2, stop, minute=0.2)
        [(key, ups)] = wait(lambda: list(book.alerts.items()), "the UPS alert")
        assert key[:2] == ("UPSOnBattery", "ups-mr1-01") and ups.events == 2
        wait(lambda: not book.alerts, "the UPS back on mains")
        demo_events.link_flap(5, stop, pause=0.05)
        [(key, port)] = wait(lambda: list(book.alerts.items()), "the flapping port's alert")
        assert key == ("NetworkLinkDown", "agg-sw-inpatient", "GigabitEthernet1/0/24")
        wait(lambda: port.events == 5 and port.flaps == 4, "all ten lines")
    finally:
        server.stop()
