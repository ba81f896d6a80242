"""Past one machine, with the snippets shipped in deploy/scale/: two exporter instances share a job's targets
by hashmod (each target probed by exactly one), and Prometheus remote-writes to a real VictoriaMetrics, from
which the series are read back."""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import yaml

from tests.conftest import LOOPBACK_ADHOC_YAML
from tests.deploy.stack import python_main
from tests.servers import PACKAGES, free_port, get_json, http_get, process, require, wait_for

REPO = Path(__file__).resolve().parents[2]
SCALE = REPO / "deploy" / "scale"
WARDS = [f"ward-{n:02d}" for n in range(1, 13)]
PACKAGES.setdefault("victoria-metrics", "victoria-metrics")


class _Site(BaseHTTPRequestHandler):
    """A web front end answering every path, recording which exporter instance asked for which path."""

    def do_GET(self) -> None:
        self.server.hits[self.path].add(self.headers["X-Exporter"])  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[tuple[str, defaultdict[str, set[str]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    server.hits = defaultdict(set)  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.hits  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _exporter(tmp_path: Path, name: str) -> Any:
    config = tmp_path / f"{name}.yml"
    config.write_text(
        LOOPBACK_ADHOC_YAML + f"modules:\n  web: {{kind: http, http: {{headers: {{X-Exporter: {name}}}}}}}\n"
    )
    port = free_port()
    argv = python_main(
        "exporters.emr.main", f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"
    )
    return port, process(argv, f"http://127.0.0.1:{port}/-/healthy", tmp_path / f"{name}.log")


def _prometheus_config(exporters: list[int], vm_port: int) -> dict[str, Any]:
    """deploy/scale/exporter-shards.yml's job on the emr exporters; remote-write.yml to VictoriaMetrics."""
    job = yaml.safe_load((SCALE / "exporter-shards.yml").read_text())["scrape_configs"][0]
    job.update(job_name="emr", scrape_interval="1s", scrape_timeout="1s")
    job["file_sd_configs"] = [{"files": ["targets/emr-*.json"], "refresh_interval": "1s"}]
    shards = [r for r in job["relabel_configs"] if r.get("target_label") == "__address__" and "regex" in r]
    assert [r["regex"] for r in shards] == ["0", "1"]
    for rule, port in zip(shards, exporters, strict=True):
        rule["replacement"] = f"127.0.0.1:{port}"
    remote = yaml.safe_load((SCALE / "remote-write.yml").read_text())
    remote["remote_write"][0]["url"] = f"http://127.0.0.1:{vm_port}/api/v1/write"
    remote["remote_write"][0]["queue_config"]["batch_send_deadline"] = "1s"
    return {
        "global": {"scrape_interval": "1s", **remote["global"]},
        "remote_write": remote["remote_write"],
        "scrape_configs": [job],
    }


def test_two_exporters_share_targets_and_series_reach_victoriametrics(
    tmp_path: Path, site: tuple[str, defaultdict[str, set[str]]]
) -> None:
    url, hits = site
    vm_binary = require("victoria-metrics")
    vm_port = free_port()
    vm = f"http://127.0.0.1:{vm_port}"
    port_a, exporter_a = _exporter(tmp_path, "exporter-a")
    port_b, exporter_b = _exporter(tmp_path, "exporter-b")
    prom_dir = tmp_path / "prometheus"
    (prom_dir / "targets").mkdir(parents=True)
    groups = [
        {"targets": [f"{url}/{ward}"], "labels": {"ci": ward, "service": "emr", "__param_module": "web"}}
        for ward in WARDS
    ]
    (prom_dir / "targets" / "emr-web.json").write_text(json.dumps(groups))
    (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(_prometheus_config([port_a, port_b], vm_port)))
    prom_port = free_port()
    prom = f"http://127.0.0.1:{prom_port}"
    vm_argv = [
        vm_binary,
        f"-httpListenAddr=127.0.0.1:{vm_port}",
        f"-storageDataPath={tmp_path / 'vm'}",
        "-retentionPeriod=1",
        "-search.latencyOffset=0s",
    ]
    prom_argv = [
        require("prometheus"),
        "--config.file=prometheus.yml",
        f"--storage.tsdb.path={prom_dir / 'data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
    ]
    with (
        exporter_a,
        exporter_b,
        process(vm_argv, f"{vm}/health", tmp_path / "victoria-metrics.log"),
        process(prom_argv, f"{prom}/-/ready", tmp_path / "prometheus.log", cwd=prom_dir),
    ):

        def all_up() -> list[dict[str, Any]]:
            active = get_json(f"{prom}/api/v1/targets?state=active")["data"]["activeTargets"]
            return active if len(active) == len(WARDS) and all(t["health"] == "up" for t in active) else []

        active = wait_for(all_up, 60, "every ward's target up through one of the two exporters")
        # Each target is probed by exactly one exporter, and both exporters take a share.
        by_ci = Counter(t["labels"]["ci"] for t in active)
        assert by_ci == Counter(WARDS)
        exporter_of = {t["labels"]["ci"]: urlsplit(t["scrapeUrl"]).port for t in active}
        shares = Counter(exporter_of.values())
        assert set(shares) == {port_a, port_b}, shares
        assert all(t["labels"]["instance"] == f"{url}/{t['labels']['ci']}" for t in active)
        # The exporters' own counts agree: each answered probes for its share of the wards only.
        for port in (port_a, port_b):
            mine = {ci for ci, p in exporter_of.items() if p == port}
            status, body = http_get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            line = next(
                ln for ln in body.decode().splitlines()
                if ln.startswith('hospmon_exporter_probes_total{module="web",result="success"}')
            )  # fmt: skip
            assert float(line.split()[-1]) >= len(mine)
        # And from the probed side: each ward saw exactly one exporter instance, the one Prometheus chose.
        names = {port_a: "exporter-a", port_b: "exporter-b"}
        assert {path.lstrip("/"): seen for path, seen in hits.items()} == {
            ci: {names[port]} for ci, port in exporter_of.items()
        }

        # remote_write: the probe results reach VictoriaMetrics with their labels and external labels.
        def in_vm() -> list[dict[str, Any]]:
            query = urlencode({"query": 'hospmon_probe_success{job="emr"} == 1'})
            result: list[dict[str, Any]] = get_json(f"{vm}/api/v1/query?{query}")["data"]["result"]
            return result if len(result) == len(WARDS) else []

        series = wait_for(in_vm, 60, "the twelve probe results in VictoriaMetrics")
        assert {s["metric"]["ci"] for s in series} == set(WARDS)
        assert {(s["metric"]["hospital"], s["metric"]["campus"]) for s in series} == {("demo-first", "main")}
        assert all("__tmp_shard" not in s["metric"] for s in series)
