"""``hospmon router ...``: explain a payload, migrate the store; `hospmon` calls `register_cli`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from alertrouter.app import CONFIG_ENV
from alertrouter.context import load_router
from alertrouter.explain import explain
from alertrouter.migrate import upgrade
from alertrouter.policy.load import load_policy
from alertrouter.policy.priority import Assessor
from alertrouter.settings import load_settings
from hospmon.config import ConfigError
from hospmon.inventory import load_inventory


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default=os.environ.get(CONFIG_ENV), help=f"router config (default ${CONFIG_ENV})"
    )


def _assessor(args: argparse.Namespace) -> Assessor:
    if args.inventory and args.policy:
        inventory = load_inventory(args.inventory)
        policy, calendar = load_policy(args.policy, inventory)
        return Assessor(inventory, policy, calendar)
    if not args.config:
        raise ConfigError.single("-", f"give --config, set ${CONFIG_ENV}, or give --inventory and --policy")
    return load_router(args.config).assessor


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the priority, explanation, owner and grouping of every alert in a payload."""
    assessor = _assessor(args)
    try:
        payload = json.loads(Path(args.payload).read_text(encoding="utf-8"))
        at = dt.datetime.fromisoformat(args.at) if args.at else None
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=assessor.inventory.tz)
        decisions = explain(assessor, payload, at=at)
    except (OSError, ValueError) as exc:  # unreadable file, not JSON, bad --at, or PayloadError
        print(f"{args.payload}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(decisions, ensure_ascii=False, indent=2))
    else:
        for d in decisions:
            print(f"{d['alert']} on {d['ci']} ({d['status']}): {d['explanation']}")
            print(f"    {d['owner']}")
            print(f"    {d['grouping']}")
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Apply the store's migrations."""
    if not args.config:
        raise ConfigError.single("-", f"give --config or set ${CONFIG_ENV}")
    upgrade(load_settings(args.config).database_url)
    print("store is at the newest schema")
    return 0


def _reporting(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print configuration faults (file, entry, key) and exit 2 instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2

    return run


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``router explain`` and ``router db upgrade``; each sets ``handler(args) -> exit code``."""
    router = subparsers.add_parser("router", help="the alert router")
    commands = router.add_subparsers(dest="router_command", required=True)
    ex = commands.add_parser("explain", help="print the decision for a webhook payload without storing it")
    ex.add_argument("payload", help="Alertmanager webhook JSON file")
    _config_arg(ex)
    ex.add_argument("--inventory", help="inventory file or folder (instead of --config)")
    ex.add_argument("--policy", help="policy file (instead of --config)")
    ex.add_argument("--at", help="decide as if at this time (ISO 8601; hospital time if no offset)")
    ex.add_argument("--json", action="store_true", help="print JSON")
    ex.set_defaults(handler=_reporting(cmd_explain))
    db = commands.add_parser("db", help="the router's store")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    up = db_commands.add_parser("upgrade", help="apply migrations")
    _config_arg(up)
    up.set_defaults(handler=_reporting(cmd_upgrade))


def main(argv: list[str] | None = None) -> int:
    """Run ``router`` commands standalone (the lead's ``hospmon`` CLI embeds `register_cli`)."""
    parser = argparse.ArgumentParser(prog="hospmon")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
