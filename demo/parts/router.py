"""The demo's alert router on 127.0.0.1:19180 (SQLite in the run folder), and a mail sink for its emails.

Alertmanager already sends to the router with the bearer token in ``run/alertmanager/secrets/``; the router
reads the same file. The JSON API token for the demo (actor ``wang.lei``, the network team's lead) is written
to ``run/router/api-tokens``. Emails go to an aiosmtpd sink on 127.0.0.1:12525 that keeps them as files in
``run/router/mail/`` (a Maildir), when aiosmtpd is installed (the dev extra).
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from pathlib import Path
from typing import Any

import yaml

from demo import ports
from demo.launcher import Part, console_script
from demo.servers.process import accepts
from hospmon.paths import share_dir

ROUTER_PORT = ports.ROUTER
SMTP_PORT = 12525


def config(run: Path, inventory: Path, *, mail: bool) -> dict[str, Any]:
    """Return the router config for the demo's run folder."""
    folder = run / "router"
    data: dict[str, Any] = {
        "inventory": str(inventory),
        "database": {"url": f"sqlite:///{folder / 'router.db'}"},
        "webhook_auth": {"bearer_token_file": str(run / "alertmanager" / "secrets" / "router-webhook-token")},
        "api_tokens_file": str(folder / "api-tokens"),
        "alertmanager": {"url": ports.url(ports.ALERTMANAGER)},
        "prometheus": {"url": ports.url(ports.PROMETHEUS)},
        "worker": {"interval_seconds": 2},
        "console_url": ports.url(ROUTER_PORT),
        "language": "zh",
        "wards": {
            "playbooks": str(share_dir() / "rules" / "wards"),
            "prometheus_url": ports.url(ports.PROMETHEUS),
        },
    }
    if mail:
        data["channels"] = [
            {
                "name": "email",
                "kind": "email",
                "priorities": ["P1", "P2", "P3"],
                "smtp": {
                    "host": "127.0.0.1",
                    "port": ports.port(SMTP_PORT),
                    "sender": "hospmon-router@hospital.example",
                    "security": "none",
                },
            }
        ]
    return data


def parts(run: Path, inventory: Path) -> list[Part]:
    """Start the mail sink (if aiosmtpd is there), then the router."""
    folder = run / "router"
    folder.mkdir(parents=True, exist_ok=True)
    tokens = folder / "api-tokens"
    if not tokens.exists():
        tokens.write_text(f"wang.lei {secrets.token_urlsafe(24)}\n", encoding="utf-8")
        tokens.chmod(0o600)
    mail = importlib.util.find_spec("aiosmtpd") is not None
    path = folder / "router.yml"
    header = "# Written by hospmon demo for this run folder; see docs/router.md.\n"
    path.write_text(
        header + yaml.safe_dump(config(run, inventory, mail=mail), sort_keys=False), encoding="utf-8"
    )
    found: list[Part] = []
    if mail:
        found.append(
            Part(
                name="mail-sink",
                argv=[
                    sys.executable,
                    "-m",
                    "aiosmtpd",
                    "-n",
                    "-l",
                    ports.addr(SMTP_PORT),
                    "-c",
                    "aiosmtpd.handlers.Mailbox",
                    str(folder / "mail"),
                ],
                ready_url="",
                shown_url=f"smtp://{ports.addr(SMTP_PORT)} -> {folder / 'mail'}",
                ready=lambda: accepts(ports.port(SMTP_PORT)),
            )
        )
    found.append(
        Part(
            name="alert-router",
            argv=[
                console_script("hospmon-router"),
                f"--config.file={path}",
                "--db.upgrade",
                f"--web.listen-address={ports.addr(ROUTER_PORT)}",
            ],
            ready_url=ports.url(ROUTER_PORT, "/-/ready"),
            shown_url=ports.url(ROUTER_PORT, "/console/"),
        )
    )
    return found
