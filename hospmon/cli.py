"""hospmon: the admin command line (inventory checks and targets, the demo, the router, SNMP modules)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from hospmon import paths
from hospmon.config import ConfigError
from hospmon.inventory import Inventory, load_inventory
from hospmon.inventory.impact import shared_infrastructure
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
    # Read this list when priorities look wrong: a CI here counts for every department of its service.
    print("shared infrastructure (every department of the service depends on it):")
    for service, cis in sorted(shared_infrastructure(inv).items()):
        print(f"  {service} ({len(inv.services[service].departments)} departments): {', '.join(cis)}")
    return 0


def _targets(args: argparse.Namespace) -> int:
    _, inv = _load(args)
    if inv is None:
        return 1
    for written in write_targets(inv, args.out):
        print(written)
    return 0


def _topology(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from hospmon.inventory.observed import load_observation
    from hospmon.inventory.topology import compare, report

    _, inv = _load(args)
    if inv is None:
        return 1
    try:
        observation = load_observation(args.observed)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 1
    drift = compare(inv, observation)
    if args.json:
        print(json.dumps(asdict(drift), ensure_ascii=False, indent=2))
    else:
        print(report(drift, observation), end="")
    return 3 if drift.total else 0


def _import_assets(args: argparse.Namespace) -> int:
    import yaml

    from hospmon.inventory.assets import import_assets, load_mapping

    out = Path(args.out)
    try:
        mapping = load_mapping(args.mapping)
        inv = load_inventory(args.inventory) if args.inventory else None
        if args.inventory and _within(out, Path(args.inventory)):
            raise ConfigError.single(out, "the import never writes the inventory; give --out outside it")
        result = import_assets(Path(args.sheet), mapping, inv)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"{args.sheet}: {exc}", file=sys.stderr)
        return 1
    cis = [ci.model_dump(mode="json", exclude_defaults=True) for ci in result.cis]
    head = f"# Imported from {Path(args.sheet).name}: {len(cis)} of {result.rows} rows; review, then merge.\n"
    out.write_text(head + yaml.safe_dump({"cis": cis}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    print(f"{len(cis)} of {result.rows} rows imported into {out}; {len(result.problems)} problem(s)")
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    return 4 if result.problems else 0


def _export_assets(args: argparse.Namespace) -> int:
    from hospmon.inventory.assets import load_mapping, write_assets

    _, inv = _load(args)
    if inv is None:
        return 1
    try:
        mapping = load_mapping(args.mapping)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 1
    print(f"{write_assets(inv, mapping, Path(args.out))} configuration items written to {args.out}")
    return 0


def _within(path: Path, inventory: Path) -> bool:
    path, inventory = path.resolve(), inventory.resolve()
    return path == inventory or (inventory.is_dir() and inventory in path.parents)


def _paths(args: argparse.Namespace) -> int:
    try:
        share = paths.share_dir()
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for name, relative in paths.LAYOUT.items():
        if args.name in (None, name):
            print(share / relative if args.name else f"{name:<22} {share / relative}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every hospmon subcommand."""
    parser = argparse.ArgumentParser(prog="hospmon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    inventory = sub.add_parser("inventory", help="check the inventory, write Prometheus targets")
    inv_sub = inventory.add_subparsers(dest="action", required=True)
    for name, handler, helptext in (
        ("check", _check, "report every fault of the inventory"),
        ("targets", _targets, "write file_sd target files per exporter and module"),
        ("topology", _topology, "compare links seen on the wire with depends_on (exit 3 on drift)"),
    ):
        cmd = inv_sub.add_parser(name, help=helptext)
        cmd.add_argument(
            "inventory", nargs="?", help="file or folder (default $HOSPMON_INVENTORY or inventory.yml)"
        )
        cmd.set_defaults(handler=handler)
        if name == "targets":
            cmd.add_argument("--out", required=True, help="folder Prometheus reads file_sd files from")
        if name == "topology":
            cmd.add_argument("--observed", required=True, help="observed.yml written by hospmon discover")
            cmd.add_argument("--json", action="store_true", help="print the drift as JSON")

    imp = inv_sub.add_parser(
        "import", help="read an XLSX or CSV asset list into CI entries, row problems reported"
    )
    imp.add_argument("sheet", help="the .xlsx or .csv file")
    imp.add_argument("--mapping", required=True, help="column mapping file (see hospmon/inventory/assets.py)")
    imp.add_argument(
        "--out", required=True, help="YAML file for the imported CIs (never the inventory itself)"
    )
    imp.add_argument("--inventory", help="check services, departments and teams against this inventory")
    imp.set_defaults(handler=_import_assets)
    exp = inv_sub.add_parser("export", help="write the inventory's CIs as an XLSX or CSV asset list")
    exp.add_argument(
        "inventory", nargs="?", help="file or folder (default $HOSPMON_INVENTORY or inventory.yml)"
    )
    exp.add_argument("--mapping", required=True, help="column mapping file")
    exp.add_argument("--out", required=True, help="the .xlsx or .csv file to write")
    exp.set_defaults(handler=_export_assets)

    where = sub.add_parser("paths", help="print where the installed rules, dashboards and deploy configs are")
    where.add_argument("name", nargs="?", choices=list(paths.LAYOUT), help="print only this path")
    where.set_defaults(handler=_paths)

    # Components above the model (the router, the demo) add their subcommands through an entry point, so
    # the model never imports them; one whose extra is not installed adds nothing.
    for entry in sorted(entry_points(group="hospmon.cli"), key=lambda e: e.name):
        try:
            register = entry.load()
        except ImportError:
            continue
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one hospmon subcommand."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ModuleNotFoundError as exc:  # a component's library, left out of a small install
        print(f"hospmon {args.command}: {exc.name} is not installed; install the extra that brings it, "
              "e.g. pip install 'hospmon[inventory]' (README, Installing)", file=sys.stderr)  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
