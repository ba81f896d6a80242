"""A demo-like stack on free loopback ports: the demo inventory, its exporters, the router, Alertmanager and
Prometheus, configured from the same files under deploy/ that `make demo` and docker-compose.yml use."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hospmon.inventory import load_inventory
from hospmon.inventory.targets import write_targets
from tests.servers import alertmanager, free_port, process, prometheus

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_TOKEN = "dashboard-test-webhook-token"
API_TOKEN = "dashboard-test-api-token"
# Demo port -> the part of this stack that stands in for it.
DEMO_PORTS = {"19090": "prometheus", "19093": "alertmanager", "19101": "inventory", "19180": "router"}


@dataclass
class Stack:
    """Where the running stack's parts answer."""

    prometheus: str
    alertmanager: str
    router: str
    broken_ci: str


def python_main(module: str, *args: str) -> list[str]:
    """argv running `module.main(args)` from this worktree."""
    return [
        sys.executable,
        "-c",
        f"import sys; from {module} import main; sys.exit(main(sys.argv[1:]))",
        *args,
    ]


def _inventory(run: Path, ports: dict[str, int]) -> Path:
    """The demo inventory with the demo's ports moved to this stack's (its mon-router CI scrapes this
    stack's router), plus an EMR web check through the EMR exporter and a CI whose check fails."""
    inventory = run / "inventory"
    shutil.copytree(REPO / "demo" / "inventory", inventory)
    for path in inventory.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        for demo_port, part in DEMO_PORTS.items():
            text = text.replace(f"127.0.0.1:{demo_port}", f"127.0.0.1:{ports[part]}")
        path.write_text(text, encoding="utf-8")
    extra = {
        "cis": [
            {
                "id": "test-emr-web",
                "name": {"en": "EMR web front end"},
                "kind": "application",
                "service": "emr",
                "department": "it",
                "monitor": [
                    {
                        "exporter": "emr",
                        "modules": ["health"],
                        "target": f"http://127.0.0.1:{ports['inventory']}",
                    }
                ],
            },
            {
                "id": "test-lis-interface",
                "name": {"en": "LIS interface that does not answer"},
                "kind": "application",
                "service": "lis",
                "department": "lab",
                "address": f"127.0.0.1:{ports['closed']}",
                "monitor": [{"exporter": "native", "modules": ["metrics"]}],
            },
        ]
    }
    (inventory / "90-test.yml").write_text(yaml.safe_dump(extra, allow_unicode=True), encoding="utf-8")
    return inventory


def _prometheus_config(ports: dict[str, int], am_url: str) -> str:
    """deploy/prometheus/prometheus.yml, scraping every second, keeping the jobs this stack runs."""
    config: dict[str, Any] = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [am_url.removeprefix("http://")]
    jobs = []
    for job in config["scrape_configs"]:
        if job["job_name"] == "emr":
            for relabel in job["relabel_configs"]:
                if relabel.get("target_label") == "__address__":
                    relabel["replacement"] = f"127.0.0.1:{ports['emr']}"
        if job["job_name"] in ("native", "emr"):
            for sd in job["file_sd_configs"]:
                sd["refresh_interval"] = "1s"
            jobs.append(job)
    config["scrape_configs"] = jobs
    return yaml.safe_dump(config)


def _keep_our_targets(targets: Path, ports: dict[str, int]) -> None:
    """Drop the targets this stack does not run: native ones on other demo ports, and the probes of other
    areas' simulated systems (this stack's own probes are of test-* CIs)."""
    ours = {f"127.0.0.1:{p}" for p in ports.values()}
    for path in targets.glob("*.json"):
        groups = json.loads(path.read_text())
        if path.name.startswith("native-"):
            kept = [g for g in groups if set(g["targets"]) <= ours]
        else:
            kept = [g for g in groups if g["labels"].get("ci", "").startswith("test-")]
        path.write_text(json.dumps(kept))


@contextmanager
def running_stack(run: Path) -> Iterator[Stack]:
    """Start the stack and yield where it answers; stop everything afterwards."""
    ports = {name: free_port() for name in ("prometheus", "inventory", "emr", "router", "closed")}
    with ExitStack() as stack:
        am_dir = run / "alertmanager"
        (am_dir / "secrets").mkdir(parents=True)
        (am_dir / "secrets" / "router-webhook-token").write_text(WEBHOOK_TOKEN + "\n")
        am_config: dict[str, Any] = yaml.safe_load(
            (REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text()
        )
        am_config["route"].update(group_wait="1s", group_interval="1s")
        hook = am_config["receivers"][0]["webhook_configs"][0]
        hook["url"] = f"http://127.0.0.1:{ports['router']}/webhook/alertmanager"
        am_url = stack.enter_context(alertmanager(yaml.safe_dump(am_config), am_dir))
        ports["alertmanager"] = int(am_url.rsplit(":", 1)[1])

        inventory = _inventory(run, ports)
        prom_dir = run / "prometheus"
        write_targets(load_inventory(inventory), prom_dir / "targets")
        _keep_our_targets(prom_dir / "targets", ports)
        (prom_dir / "rules").symlink_to(REPO / "rules", target_is_directory=True)

        stack.enter_context(
            process(
                python_main(
                    "exporters.inventory.main",
                    f"--config.file={inventory}",
                    f"--web.listen-address=127.0.0.1:{ports['inventory']}",
                ),
                f"http://127.0.0.1:{ports['inventory']}/-/healthy",
                run / "inventory-exporter.log",
            )
        )
        emr_config = run / "emr.yml"
        # The exporter probes what the inventory lists for it (run/inventory beside this file).
        emr_config.write_text(
            "inventory: inventory\nmodules:\n  health: {kind: http, http: {path: /-/healthy}}\n"
        )
        stack.enter_context(
            process(
                python_main(
                    "exporters.emr.main",
                    f"--config.file={emr_config}",
                    f"--web.listen-address=127.0.0.1:{ports['emr']}",
                ),
                f"http://127.0.0.1:{ports['emr']}/-/healthy",
                run / "emr-exporter.log",
            )
        )

        router_dir = run / "router"
        router_dir.mkdir()
        (router_dir / "webhook-token").write_text(WEBHOOK_TOKEN + "\n")
        (router_dir / "api-tokens").write_text(f"wang.lei {API_TOKEN}\n")
        router_config = {
            "inventory": str(inventory),
            "policy": str(REPO / "rules" / "routing" / "policy.yml"),
            "database": {"url": f"sqlite:///{router_dir / 'router.db'}"},
            "webhook_auth": {"bearer_token_file": "webhook-token"},
            "api_tokens_file": "api-tokens",
            "alertmanager": {"url": am_url},
            # Nothing listens there: every notification attempt fails and is counted.
            "channels": [
                {"name": "pager", "kind": "webhook", "url": f"http://127.0.0.1:{ports['closed']}/page"}
            ],
            "worker": {"interval_seconds": 1},
        }
        (router_dir / "router.yml").write_text(yaml.safe_dump(router_config))
        router_url = f"http://127.0.0.1:{ports['router']}"
        stack.enter_context(
            process(
                python_main(
                    "alertrouter.main",
                    f"--config.file={router_dir / 'router.yml'}",
                    "--db.upgrade",
                    f"--web.listen-address=127.0.0.1:{ports['router']}",
                ),
                f"{router_url}/-/ready",
                run / "router.log",
                cwd=REPO,
            )
        )
        # Prometheus on the port the inventory named beforehand (its mon-prometheus CI scrapes it).
        prom_url = stack.enter_context(
            prometheus(_prometheus_config(ports, am_url), prom_dir, port=ports["prometheus"])
        )
        yield Stack(prom_url, am_url, router_url, "test-lis-interface")
