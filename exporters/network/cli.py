"""``hospmon snmp ...``: the network exporter's admin commands, registered into the hospmon command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hospmon.config import ConfigError


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


def register_cli(sub: Any) -> None:
    """Add ``snmp generate`` to the hospmon command line."""
    snmp = sub.add_parser("snmp", help="SNMP: generate network exporter modules from vendor MIBs")
    actions = snmp.add_subparsers(dest="action", required=True)
    gen = actions.add_parser(
        "generate", help="read MIB files from folders and a generator file, write one module per entry"
    )
    gen.add_argument("--mibs", action="append", required=True, help="folder of MIB files (repeatable)")
    gen.add_argument("--config", required=True, help="generator file: modules with mibs, walk, overrides")
    gen.add_argument("--out", required=True, help="folder to write <module>.yml files into")
    gen.set_defaults(handler=_generate)
