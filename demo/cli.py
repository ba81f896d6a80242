"""``hospmon demo``: the subcommand the demo adds to the `hospmon` CLI (entry point ``hospmon.cli``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from demo import ports, story
    from demo.launcher import run_demo

    # Set for every process the demo starts, which reads its ports and pace from the environment.
    if args.port_offset is not None:
        os.environ[ports.OFFSET_ENV] = str(args.port_offset)
    if args.story_pace is not None:
        os.environ[story.PACE_ENV] = str(args.story_pace)
    try:
        ports.offset(), story.pace()
    except ValueError as exc:
        print(f"hospmon demo: {exc}", file=sys.stderr)
        return 2
    return run_demo(Path(args.run_dir), hold=not args.check)


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``hospmon demo`` to the `hospmon` command line."""
    demo = subparsers.add_parser(
        "demo", help="run the whole suite against a simulated hospital on this machine"
    )
    demo.add_argument("--run-dir", default="run", help="folder for generated configs, data and logs")
    demo.add_argument("--check", action="store_true", help="start, check every target and alert, then stop")
    demo.add_argument(
        "--port-offset", type=int, help="move every demo port by this much, to run beside another demo"
    )
    demo.add_argument(
        "--story-pace", type=float, help="play the scripted morning faster: 0.25 is four times as fast"
    )
    demo.set_defaults(handler=_demo)
