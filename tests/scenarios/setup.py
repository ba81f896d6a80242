"""The pieces of a scenario run: its clock, the router config it runs with, the pages it saw."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from hospmon.inventory import Inventory, load_inventory
from tests.scenarios.chain import REPO, Chain
from tests.scenarios.model import Scenario

TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Page:
    """One message that reached a sink: to whom, on which channel, at what scenario time, about what."""

    who: str
    via: str
    at: dt.datetime
    subject: str


@dataclass
class Clock:
    """The router's clock, moved by the runner."""

    at: dt.datetime

    def now(self) -> dt.datetime:
        """Return the scenario time."""
        return self.at


def local_time(text: str, day: dt.date) -> dt.datetime:
    """Read "YYYY-MM-DD HH:MM[:SS]" or "HH:MM[:SS]" (on `day`) as hospital time."""
    if len(text) <= 8:
        return dt.datetime.combine(day, dt.time.fromisoformat(text), tzinfo=TZ)
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@cache
def demo_inventory() -> Inventory:
    """Return the demo inventory the scenarios run on."""
    return load_inventory(REPO / "demo" / "inventory")


def router_config(workdir: Path, scenario: Scenario, chain: Chain, fetch_from: str | None) -> Path:
    """Write the router config: demo inventory, shipped policy, e-mail P1-P3 and SMS P1-P2 to the sinks."""
    policy = REPO / "rules" / "routing" / "policy.yml"
    if scenario.policy:
        data = yaml.safe_load(policy.read_text())
        data.update(scenario.policy)
        data["calendar"]["files"] = [str(policy.parent / f) for f in data["calendar"].get("files", [])]
        policy = workdir / "policy.yml"
        policy.write_text(yaml.safe_dump(data))
    people = [m.id for t in demo_inventory().teams.values() for m in t.members]
    (workdir / "api-tokens").write_text("".join(f"{p} token-for-{p}\n" for p in people))
    config: dict[str, Any] = {
        "inventory": str(REPO / "demo" / "inventory"),
        "policy": str(policy),
        "database": {"url": f"sqlite:///{workdir / 'router.db'}", "busy_timeout_ms": 10000},
        "webhook_auth": {"bearer_token_file": str(chain.token_file)},
        "api_tokens_file": str(workdir / "api-tokens"),
        "worker": {"enabled": False},
        "console_url": "http://router.hospital.example",
        "channels": [
            {
                "name": "email",
                "kind": "email",
                "priorities": ["P1", "P2", "P3"],
                "smtp": {
                    "host": "127.0.0.1",
                    "port": chain.smtp.port,
                    "sender": "hospmon@hospital.example",
                    "security": "none",
                },
            },
            {
                "name": "sms",
                "kind": "sms",
                "priorities": ["P1", "P2"],
                "url": f"http://127.0.0.1:{chain.sms.port}/sms",
            },
        ],
    }
    if fetch_from:
        config["alertmanager"] = {"url": fetch_from}
    if scenario.wards:
        config["wards"] = {"playbooks": str(REPO / "rules" / "wards")}
    path = workdir / "router.yml"
    path.write_text(yaml.safe_dump(config))
    return path
