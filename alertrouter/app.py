"""The Flask app factory."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from flask import Flask
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from alertrouter.api import views_actions  # noqa: F401 (its routes join the API blueprint)
from alertrouter.api.views import bp as api_bp
from alertrouter.console import init_console
from alertrouter.context import Router, load_router
from alertrouter.db import make_engine, make_sessionmaker
from alertrouter.errors import register_errors
from alertrouter.health import bp as health_bp
from alertrouter.intake.redact import CountingTally
from alertrouter.intake.views import bp as webhook_bp
from alertrouter.metrics import StoreCollector
from alertrouter.state import AppState, Counters

CONFIG_ENV = "HOSPMON_ROUTER_CONFIG"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def create_app(config: Router | str | Path | None = None) -> Flask:
    """Build the router app from a loaded config, a config file, or the file in $HOSPMON_ROUTER_CONFIG."""
    if config is None:
        path = os.environ.get(CONFIG_ENV)
        if not path:
            raise RuntimeError(f"give create_app a config or set {CONFIG_ENV}")
        config = path
    router = config if isinstance(config, Router) else load_router(config)
    db = router.settings.file.database
    engine = make_engine(
        router.settings.database_url, busy_timeout_ms=db.busy_timeout_ms, pool_size=db.pool_size
    )
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get(MULTIPROC_ENV):
        # Under gunicorn with several processes: counters go to files that every process's /metrics sums.
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        counters = Counters.create(None)
    else:
        counters = Counters.create(registry)
    # Every refusal of the guard (webhook, truncated-alert fetch) is counted where /metrics sums it.
    router.guard.tally = CountingTally(counters.phi_refused)
    state = AppState(router, engine, make_sessionmaker(engine), registry, counters)
    if engine.dialect.name == "sqlite":
        state.write_lock = threading.Lock()

    app = Flask("alertrouter")
    # One byte over the limit, so a streamed body past it is refused rather than cut (see intake/body.py).
    app.config["MAX_CONTENT_LENGTH"] = router.settings.file.max_body_bytes + 1
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["hospmon_router"] = state
    register_errors(app)

    app.register_blueprint(webhook_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    init_console(app, secure=router.settings.file.console_url.startswith("https://"))
    registry.register(StoreCollector(state))
    logging.getLogger("alertrouter").setLevel(logging.INFO)
    return app
