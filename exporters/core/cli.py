"""Command-line entry shared by every exporter: Prometheus-style flags, start-up checks, serving."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from exporters.core.isolate import call_in_child
from exporters.core.probe import Exporter
from exporters.core.server import ExporterApp, RunningServer, parse_listen_address, wait_forever
from exporters.core.webconfig import load_web_config
from hospmon import __version__
from hospmon.config import ConfigError


def build_parser(exporter: Exporter[Any], config_required: bool = True) -> argparse.ArgumentParser:
    """Return the flag parser every hospmon exporter shares."""
    parser = argparse.ArgumentParser(
        prog=exporter.program or f"hospmon-{exporter.name}-exporter",
        description=exporter.description or None,
    )
    parser.add_argument(
        "--config.file",
        dest="config_file",
        type=Path,
        required=config_required,
        help="the exporter's YAML configuration",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen",
        default=f":{exporter.default_port}",
        help="address to listen on (default :%(default)s; use 127.0.0.1:PORT for loopback only)",
    )
    parser.add_argument(
        "--web.config.file",
        dest="web_config",
        type=Path,
        help="exporter-toolkit web config: TLS and basic auth",
    )
    parser.add_argument(
        "--log.level", dest="log_level", default="info", choices=["debug", "info", "warn", "error"]
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--check-config", action="store_true", help="check the config files and exit")
    exporter.add_flags(parser)
    return parser


MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas() -> None:
    """Let glibc's malloc keep at most `MALLOC_ARENAS` arenas, unless ``MALLOC_ARENA_MAX`` says otherwise.

    Every probe runs in a thread of its own and glibc gives threads arenas of their own (up to 8 per core),
    each keeping what a scrape freed. Measured on the SNMP bench's 242-interface agent, the network exporter
    held 2.7 MiB more after 100 scrapes one at a time, and 26 MiB more after 160 scrapes 16 at a time,
    with glibc's default. The GIL serialises the allocating threads anyway, so two arenas cost no CPU.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return  # glibc read it at start; the operator's choice stands
    import ctypes

    with contextlib.suppress(AttributeError, OSError):  # not glibc: nothing to set
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def serve(exporter: Exporter[Any], argv: list[str] | None = None) -> int:
    """Parse flags, load and check every config, then serve until SIGTERM; return the exit status."""
    args = build_parser(exporter).parse_args(argv)
    limit_malloc_arenas()
    level = {"warn": "WARNING"}.get(args.log_level, args.log_level.upper())
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
    )
    log = logging.getLogger("hospmon.exporter")
    exporter.use_flags(args)
    try:
        host, port = parse_listen_address(args.listen)
    except ValueError as exc:
        print(f"--web.listen-address: {exc}", file=sys.stderr)
        return 2
    try:
        web = call_in_child(load_web_config, args.web_config) if args.web_config else None
        app = ExporterApp(exporter, args.config_file, web, isolate=True)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 1
    if args.check_config:
        print("configuration is valid")
        return 0
    # Before the port opens: a SIGHUP from a reload racing the start-up must reload, not end the process.
    signal.signal(signal.SIGHUP, lambda *_: app.reload())
    try:
        server = RunningServer(app, host, port).start()
    except OSError as exc:
        print(f"cannot listen on {args.listen}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        exporter.start(lambda: app.config)
    except OSError as exc:
        server.stop()
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    log.info("listening on %s", server.url)
    wait_forever(server, app.reload)
    return 0
