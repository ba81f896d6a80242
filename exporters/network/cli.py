"""``hospmon discover`` and ``hospmon snmp generate``: the network exporter's admin commands, registered into
the hospmon command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from hospmon.config import ConfigError


def _inside(path: Path, inventory: Path) -> bool:
    path, inventory = path.resolve(), inventory.resolve()
    return path == inventory or (inventory.is_dir() and inventory in path.parents)


def _discover(args: argparse.Namespace) -> int:
    from exporters.network.discovery import Settings, discover
    from exporters.network.exporter import NetworkExporter
    from exporters.network.identify import load_vendors
    from exporters.network.proposal import propose, render
    from hospmon.inventory import load_inventory

    out = Path(args.out)
    try:
        inv = load_inventory(args.inventory) if args.inventory else None
        if args.inventory and _inside(out, Path(args.inventory)):
            raise ConfigError.single(
                out, "discovery never writes the inventory; give an --out folder outside it", key="--out"
            )
        runtime = NetworkExporter().load_config(Path(args.config) if args.config else None)
        vendors = load_vendors(Path(args.vendors) if args.vendors else None)
        settings = Settings(args.port, args.concurrency, args.rate, args.deadline)
        scan = discover(runtime, args.cidr, args.auth, vendors, settings)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"hospmon discover: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    proposal = propose(scan.devices, inv, args.service, args.auth)
    stamp = scan.observation().observed_at
    header = (
        f"Proposed by hospmon discover at {stamp}: {', '.join(scan.scanned)} with auth {args.auth}.\n"
        f"{len(scan.devices)} answered, {len(proposal.new)} new, {len(scan.silent)} silent."
    )
    (out / "proposed-cis.yml").write_text(render(proposal, header), encoding="utf-8")
    observed = scan.observation().model_dump(exclude_defaults=True)
    text = yaml.safe_dump(observed, allow_unicode=True, sort_keys=False, width=110)
    (out / "observed.yml").write_text(text, encoding="utf-8")
    print(f"{len(scan.devices)} device(s) answered of {len(scan.devices) + len(scan.silent)} asked")
    for device, entry in proposal.new:
        print(
            f"  new    {entry['id']:<24} {device.address:<16} {device.vendor} {device.model} {device.serial}"
        )
    for device, ident, diffs in proposal.known:
        print(f"  known  {ident:<24} {device.address:<16} {'; '.join(diffs)}")
    print(f"wrote {out / 'proposed-cis.yml'} and {out / 'observed.yml'}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from exporters.network.generator import generate, write_modules
    from exporters.network.mibs import MibError

    try:
        modules = generate(Path(args.config), [Path(m) for m in args.mibs])
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 1
    except MibError as exc:
        print(f"MIB error: {exc}", file=sys.stderr)
        return 1
    for path in write_modules(modules, Path(args.out), Path(args.config).name):
        print(path)
    return 0


def _register_snmp(sub: Any) -> None:
    snmp = sub.add_parser("snmp", help="SNMP: generate network exporter modules from vendor MIBs")
    actions = snmp.add_subparsers(dest="action", required=True)
    gen = actions.add_parser(
        "generate", help="read MIB files from folders and a generator file, write one module per entry"
    )
    gen.add_argument("--mibs", action="append", required=True, help="folder of MIB files (repeatable)")
    gen.add_argument("--config", required=True, help="generator file: modules with mibs, walk, overrides")
    gen.add_argument("--out", required=True, help="folder to write <module>.yml files into")
    gen.set_defaults(handler=_generate)


def register_cli(sub: Any) -> None:
    """Add ``discover`` and ``snmp generate`` to the hospmon command line."""
    _register_snmp(sub)
    cmd = sub.add_parser(
        "discover", help="find SNMP agents in address ranges and propose inventory entries for review"
    )
    cmd.add_argument(
        "--cidr", action="append", required=True, help="range to scan, e.g. 10.1.0.0/24 (repeatable)"
    )
    cmd.add_argument("--auth", required=True, help="auth name as the network exporter's config defines it")
    cmd.add_argument("--config", help="network exporter config holding the auths (default: the shipped one)")
    cmd.add_argument("--inventory", help="inventory file or folder: devices already in it are not proposed")
    cmd.add_argument("--out", required=True, help="folder for proposed-cis.yml and observed.yml")
    cmd.add_argument("--service", default="network", help="service of proposed CIs (default network)")
    cmd.add_argument(
        "--vendors", help="site table of enterprise numbers and products (wins over the shipped)"
    )
    cmd.add_argument("--port", type=int, default=161, help="agent UDP port (default 161)")
    cmd.add_argument("--concurrency", type=int, default=16, help="addresses asked at once (default 16)")
    cmd.add_argument(
        "--rate", type=float, default=50.0, help="new addresses per second, at most (default 50)"
    )
    cmd.add_argument("--deadline", type=float, default=3.0, help="seconds per address, all tries (default 3)")
    cmd.set_defaults(handler=_discover)
