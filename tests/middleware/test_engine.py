"""The interface engine: the demo's simulated Mirth Connect, read by the `mirth` and `engine_json` modules.

A Thursday morning, clinic hours (promtool's clock starts at 1970-01-01 00:00 UTC, 08:00 in Shanghai, a
Thursday): the engine's clock is set to promtool's, so the exporter's real answers, one scrape a minute,
are what the rules see. The LIS's inbound interface goes down and its results queue; the HIS's ADT feed
to the LIS is stopped by hand and forgotten; the RIS stops sending reports. The integration team must hear
of each, about that channel only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo.integration import engine as simulated
from exporters.core.server import ExporterApp, RunningServer
from exporters.middleware.main import MiddlewareExporter
from tests.middleware.conftest import one, probe, samples, scrape_labels, write_inventory
from tests.promtool import captured_sequence, expected_alert, run_rule_test
from tests.servers import http_get

CHANNEL_SERIES = [
    "hospmon_engine_channel_up",
    "hospmon_engine_channel_queued_messages",
    "hospmon_engine_channel_last_message_timestamp_seconds",
]
RULES = ["integration.yml", "his.yml"]  # his.yml records the clinic hours


class Simulated:
    """The simulated engine on a free port, its clock at promtool's zero."""

    def __init__(self, password: str) -> None:
        self.engine = simulated.Engine(now=0.0)
        self.server = simulated.serve(self.engine, password, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def post(self, path: str) -> None:
        """POST to one of the simulator's demo controls, as the demo's operator would."""
        import urllib.request

        with urllib.request.urlopen(urllib.request.Request(self.url + path, method="POST"), timeout=10) as r:
            assert r.status == 200


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[Simulated, str]]:
    """A fresh simulated engine and a middleware exporter allowed to read it (inventory, password file)."""
    password = "engine-api-secret"
    sim = Simulated(password)
    secret = tmp_path / "mirth-password"
    secret.write_text(password + "\n", encoding="utf-8")
    inventory = write_inventory(tmp_path / "inventory", engine=sim.url)
    config: dict[str, Any] = {
        "inventory": str(inventory),
        "auths": {"mirth": {"basic": {"username": "hospmon", "password_file": str(secret)}}},
        "modules": {
            "mirth": {"kind": "mirth", "http": {"auth": "mirth"}, "mirth": {"last_message": True}},
            "esb": {
                "kind": "engine_json",
                "http": {"path": "/esb/api/v1/channels", "auth": "mirth"},
                "engine_json": {
                    "channels": "data.channels", "name": "name", "state": "status",
                    "states": {"RUNNING": "started", "STOPPED": "stopped", "PAUSED": "paused"},
                    "received": "stats.in", "sent": "stats.out", "errored": "stats.err", "queued": "queue",
                    "last_message": "lastMessageTime", "version": "version",
                },
            },
        },
    }  # fmt: skip
    (tmp_path / "middleware.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with RunningServer(ExporterApp(MiddlewareExporter(), tmp_path / "middleware.yml"), "127.0.0.1", 0) as ex:
        yield sim, ex.url
    sim.server.shutdown()
    sim.server.server_close()


def _scrape_every_minute(sim: Simulated, exporter: str, minutes: int) -> list[str]:
    """Let a minute of traffic through, then scrape the mirth module; `minutes` times."""
    bodies = []
    for _ in range(minutes):
        sim.post("/-/demo/advance?seconds=60")
        status, body = probe(exporter, sim.url, "mirth")
        assert status == 200 and one(body, "hospmon_probe_success") == 1, body
        bodies.append(body)
    return bodies


def test_mirth_module_reads_every_channel(engine: tuple[Simulated, str]) -> None:
    sim, exporter = engine
    sim.post("/-/demo/advance?seconds=3600")
    _, body = probe(exporter, sim.url, "mirth")
    assert one(body, "hospmon_engine_info", engine="mirth") == 1
    assert dict(next(iter(samples(body, "hospmon_engine_info"))))["version"] == "4.5.2"
    assert one(body, "hospmon_engine_channels", state="started") == 6
    adt = {"channel": "HIS ADT to LIS"}
    assert one(body, "hospmon_engine_channel_up", **adt) == 1
    assert one(body, "hospmon_engine_channel_received_messages_total", **adt) == 720  # 12 a minute
    assert one(body, "hospmon_engine_channel_errored_messages_total", **adt) == 1  # one in 400
    assert one(body, "hospmon_engine_channel_queued_messages", **adt) == 0
    assert one(body, "hospmon_engine_channel_last_message_timestamp_seconds", **adt) == 3600


def test_json_module_reads_the_same_channels(engine: tuple[Simulated, str]) -> None:
    sim, exporter = engine
    sim.post("/-/demo/advance?seconds=3600")
    sim.post("/-/demo/channels/his-orders-to-ris/stop")
    _, body = probe(exporter, sim.url, "esb")
    assert one(body, "hospmon_probe_success") == 1
    assert dict(next(iter(samples(body, "hospmon_engine_info"))))["version"] == "HIP 3.0.7"
    ris = {"channel": "HIS imaging orders to RIS"}
    assert one(body, "hospmon_engine_channel_up", **ris) == 0
    assert one(body, "hospmon_engine_channel_state", state="stopped", **ris) == 1
    assert one(body, "hospmon_engine_channel_received_messages_total", channel="LIS results to HIS") == 1080
    assert one(body, "hospmon_engine_channel_last_message_timestamp_seconds", **ris) == 3600


def test_lis_down_queue_grows_and_alerts_that_channel(engine: tuple[Simulated, str], tmp_path: Path) -> None:
    sim, exporter = engine
    sim.post("/-/demo/channels/lis-results-to-his/block")  # the HIS stops accepting results
    bodies = _scrape_every_minute(sim, exporter, 12)
    queued = one(bodies[-1], "hospmon_engine_channel_queued_messages", channel="LIS results to HIS")
    assert queued > 200
    labels = {
        **scrape_labels(tmp_path / "inventory", "esb-engine-1"),
        "job": "middleware",
        "instance": sim.url,
    }
    series = captured_sequence(bodies, CHANNEL_SERIES, labels)
    lis = expected_alert("integration.yml", "IntegrationQueueGrowing",
                         {**labels, "module": "mirth", "channel": "LIS results to HIS"})  # fmt: skip
    run_rule_test(tmp_path, RULES, series, [
        {"eval_time": "11m", "alertname": "IntegrationQueueGrowing", "exp_alerts": [lis]},
        {"eval_time": "11m", "alertname": "IntegrationChannelStopped", "exp_alerts": []},
    ])  # fmt: skip


def test_stopped_and_silent_channels_in_clinic_hours(engine: tuple[Simulated, str], tmp_path: Path) -> None:
    sim, exporter = engine
    sim.post("/-/demo/channels/his-adt-to-lis/stop")  # stopped for a change, and forgotten
    bodies = _scrape_every_minute(sim, exporter, 1)
    sim.post("/-/demo/channels/ris-reports-to-emr/quiet")  # the RIS sends no more reports
    bodies += _scrape_every_minute(sim, exporter, 39)
    labels = {
        **scrape_labels(tmp_path / "inventory", "esb-engine-1"),
        "job": "middleware",
        "instance": sim.url,
    }
    series = captured_sequence(bodies, CHANNEL_SERIES, labels)

    def alert(name: str, channel: str, **extra: str) -> dict[str, Any]:
        return expected_alert(
            "integration.yml", name, {**labels, "module": "mirth", "channel": channel, **extra}
        )

    run_rule_test(tmp_path, RULES, series, [
        {"eval_time": "3m", "alertname": "IntegrationChannelStopped", "exp_alerts": []},
        {"eval_time": "7m", "alertname": "IntegrationChannelStopped",
         "exp_alerts": [alert("IntegrationChannelStopped", "HIS ADT to LIS", severity="critical")]},
        # The stopped channel is not also "silent": that is for started channels nobody sends to.
        {"eval_time": "39m", "alertname": "IntegrationChannelSilent",
         "exp_alerts": [alert("IntegrationChannelSilent", "RIS reports to EMR")]},
    ])  # fmt: skip


def test_wrong_password_and_unlisted_engine(engine: tuple[Simulated, str], tmp_path: Path) -> None:
    sim, exporter = engine
    status, _ = http_get(f"{sim.url}/api/channels/statuses")
    assert status == 401  # the simulator checks the account the exporter is given
    (tmp_path / "mirth-password").write_text("wrong\n", encoding="utf-8")  # rotated under the exporter
    _, body = probe(exporter, sim.url, "mirth")
    assert one(body, "hospmon_probe_failure", reason="auth") == 1
    status, text = probe(exporter, "http://127.0.0.2:18090", "mirth")
    assert status == 400 and "not in this exporter's targets" in text
