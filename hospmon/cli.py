"""hospmon: the admin command line (inventory checks and targets, the demo, the router, SNMP modules)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from hospmon.config import ConfigError
from hospmon.inventory import Inventory, load_inventory
from hospmon.inventory.targets import write_targets

Handler = Callable[[argparse.Namespace], int]


def _inventory_path(args: argparse.Namespace) -> Path:
    return Path(args.inventory or os.environ.get("HOSPMON_INVENTORY", "inventory.yml"))


def _load(args: argparse.Namespace) -> tuple[Path, Inventory | None]:
    """Load the inventory named on the command line, printing every fault when it is invalid."""
    path = _inventory_path(args)
    try:
        return path, load_inventory(path)
    except ConfigError as exc:
        print(f"{path}: {len(exc.faults)} fault(s)", file=sys.stderr)
        for fault in exc.faults:
            print(f"  {fault}", file=sys.stderr)
        return path, None


def _check(args: argparse.Namespace) -> int:
    path, inv = _load(args)
    if inv is None:
        return 1
    print(
        f"{path}: valid: {len(inv.departments)} departments, {len(inv.teams)} teams, "
        f"{len(inv.services)} services, {len(inv.cis)} configuration items"
    )
    return 0


def _targets(args: argparse.Namespace) -> int:
    _, inv = _load(args)
    if inv is None:
        return 1
    for written in write_targets(inv, args.out):
        print(written)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from hospmon.demo import run_demo

    return run_demo(Path(args.run_dir), hold=not args.check)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every hospmon subcommand."""
    parser = argparse.ArgumentParser(prog="hospmon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    inventory = sub.add_parser("inventory", help="check the inventory, write Prometheus targets")
    inv_sub = inventory.add_subparsers(dest="action", required=True)
    for name, handler, helptext in (
        ("check", _check, "report every fault of the inventory"),
        ("targets", _targets, "write file_sd target files per exporter and module"),
    ):
        cmd = inv_sub.add_parser(name, help=helptext)
        cmd.add_argument(
            "inventory", nargs="?", help="file or folder (default $HOSPMON_INVENTORY or inventory.yml)"
        )
        cmd.set_defaults(handler=handler)
        if name == "targets":
            cmd.add_argument("--out", required=True, help="folder Prometheus reads file_sd files from")

    demo = sub.add_parser("demo", help="run the whole suite against a simulated hospital on this machine")
    demo.add_argument("--run-dir", default="run", help="folder for generated configs, data and logs")
    demo.add_argument("--check", action="store_true", help="start, check every target and alert, then stop")
    demo.set_defaults(handler=_demo)

    # The router and the network exporter add their own subcommands when they are installed.
    for plugin in ("alertrouter.cli", "exporters.network.cli"):
        try:
            module = importlib.import_module(plugin)
        except ImportError:
            continue
        module.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one hospmon subcommand."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
