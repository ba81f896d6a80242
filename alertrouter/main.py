"""``hospmon-router``: check the config, optionally migrate, then serve with gunicorn (and run the worker)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from prometheus_client import values
from sqlalchemy.engine import make_url

from alertrouter.app import MULTIPROC_ENV, create_app
from alertrouter.console import load_views
from alertrouter.context import Router, load_router
from alertrouter.worker.run import Worker
from hospmon.config import ConfigError


class RouterServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving the router app; each worker process builds its own app and background worker."""

    def __init__(self, router: Router, options: dict[str, Any]) -> None:
        self.router = router
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Hand our options to gunicorn."""
        for key, value in self.options.items():
            if key in self.cfg.settings:  # control_socket_disable exists from gunicorn 27 on
                self.cfg.set(key, value)
        if self.router.settings.file.worker.enabled:
            self.cfg.set("post_worker_init", _start_worker)

    def load(self) -> Flask:
        """Build the app in the worker process (after fork, so no connection is shared)."""
        app = create_app(self.router)
        app.config["HOSPMON_ROUTER"] = self.router
        return app


def _start_worker(worker: Any) -> None:
    app: Flask = worker.wsgi
    state = app.extensions["hospmon_router"]
    Worker(state.router, state.sessions, lock=state.write_lock).start()


def main(argv: list[str] | None = None) -> int:
    """Parse flags, load and check everything, and serve."""
    parser = argparse.ArgumentParser(prog="hospmon-router", description=__doc__)
    parser.add_argument("--config.file", dest="config", required=True, help="router config YAML")
    parser.add_argument("--web.listen-address", dest="listen", default="127.0.0.1:9095")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn worker processes (default: 1 on SQLite, whose writers queue best in one "
        "process; 2 on PostgreSQL)",
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument("--db.upgrade", dest="upgrade", action="store_true", help="apply migrations first")
    parser.add_argument("--check", action="store_true", help="check the config and exit")
    args = parser.parse_args(argv)
    try:
        router = load_router(args.config)
    except ConfigError as exc:
        print(f"hospmon-router: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    if args.check:
        print("configuration OK")
        return 0
    if args.upgrade and not upgrade_apart(router.settings.database_url):
        print("hospmon-router: the database migration failed (its error is above)", file=sys.stderr)
        return 1
    router.assessor.precompute()  # once, in the master: the workers inherit it
    preload(router.settings.database_url)
    workers = args.workers or (1 if router.settings.database_url.startswith("sqlite") else 2)
    options = {
        "bind": args.listen,
        "workers": workers,
        "threads": args.threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "hospmon-router",
        "control_socket_disable": True,
    }
    made = _multiprocess_metrics()
    try:
        RouterServer(router, options).run()  # gunicorn leaves by SystemExit
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)
    return 0


def preload(url: str) -> None:
    """Import in the master what each worker would import after the fork: the workers then share those pages.

    The console's views and the database driver (psycopg, 73 modules) cost each worker about 10 MiB when
    imported after the fork (bench/router_ingest.py prints PSS per worker).
    """
    load_views()
    make_url(url).get_dialect().import_dbapi()


def upgrade_apart(url: str) -> bool:
    """Apply migrations in a child interpreter; tell whether they succeeded.

    Alembic imported here would stay in the master and in every worker forked from it (about 11 MiB each).
    The URL goes through a pipe, never the command line, as it may hold a password.
    """
    code = "import sys; from alertrouter.migrate import upgrade; upgrade(sys.stdin.read())"
    return subprocess.run([sys.executable, "-c", code], input=url, text=True, check=False).returncode == 0


def _multiprocess_metrics() -> str | None:
    """Keep counters in files shared by the gunicorn processes; return the folder if made here."""
    made = None
    if not os.environ.get(MULTIPROC_ENV):
        made = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="hospmon-router-metrics-")
    # prometheus_client picks its value store when first imported; pick again now that the folder is set.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return made


if __name__ == "__main__":
    sys.exit(main())
