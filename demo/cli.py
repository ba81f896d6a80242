"""``hospmon demo``: the subcommand the demo adds to the `hospmon` CLI (entry point ``hospmon.cli``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from demo.launcher import run_demo

    return run_demo(Path(args.run_dir), hold=not args.check)


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``hospmon demo`` to the `hospmon` command line."""
    demo = subparsers.add_parser(
        "demo", help="run the whole suite against a simulated hospital on this machine"
    )
    demo.add_argument("--run-dir", default="run", help="folder for generated configs, data and logs")
    demo.add_argument("--check", action="store_true", help="start, check every target and alert, then stop")
    demo.set_defaults(handler=_demo)
