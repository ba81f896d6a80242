"""The per-app state the views reach through `current_state()`: router config, store and counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.context import Router
from alertrouter.db import transaction
from hospmon.phi import RULES

OUTCOMES = ("new", "repeat", "resolved", "stale")
SIGN_IN_REFUSALS = ("wrong_token", "too_many_tries", "expired_form")


@dataclass
class Counters:
    """This process's intake and status sign-in counters, created at start-up so they exist at zero."""

    requests: Counter
    alerts: Counter
    phi_refused: Counter
    status_sign_in_refused: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None) -> Counters:
        """Create the counters with every label value present; None: multi-process mode, no registration."""
        requests = Counter(
            "hospmon_router_webhook_requests",
            "Webhook deliveries answered, by HTTP status.",
            ["code"],
            registry=registry,
        )
        alerts = Counter(
            "hospmon_router_alerts_received", "Alerts received, by outcome.", ["outcome"], registry=registry
        )
        phi_refused = Counter(
            "hospmon_router_phi_refused",
            "Values the PHI guard refused, by rule (never the value): alert values replaced with [redacted], "
            "and text staff typed that was not kept.",
            ["rule"],
            registry=registry,
        )
        status_sign_in_refused = Counter(
            "hospmon_router_status_signin_refused",
            "Status page sign-ins refused, by reason (never the typed value).",
            ["reason"],
            registry=registry,
        )
        for code in ("200", "400", "401", "413", "503"):
            requests.labels(code)
        for outcome in OUTCOMES:
            alerts.labels(outcome)
        for rule in RULES:
            phi_refused.labels(rule)
        for reason in SIGN_IN_REFUSALS:
            status_sign_in_refused.labels(reason)
        return cls(requests, alerts, phi_refused, status_sign_in_refused)


@dataclass
class AppState:
    """What one app instance holds."""

    router: Router
    engine: Engine
    sessions: sessionmaker[Session]
    registry: CollectorRegistry
    counters: Counters
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    """The clock; tests set their own."""
    write_lock: AbstractContextManager[Any] = field(default_factory=nullcontext)
    """On SQLite, queues this process's writers fairly instead of leaving them to SQLite's busy polling."""


def current_state() -> AppState:
    """Return the state of the app serving this request."""
    state: AppState = current_app.extensions["hospmon_router"]
    return state


def writing() -> AbstractContextManager[Session]:
    """Open the one transaction of a request's action, for the console and the API alike.

    It commits when the block ends and rolls back on any error raised inside it, so an action refused after
    its first writes keeps none of them: no timeline entry, no audit row, no page queued. A view refuses by
    raising (ApiError) inside the block, never by catching there and returning an error page: the block
    would end normally and commit what was written. On SQLite it waits behind this process's other writers.
    """
    state = current_state()
    return transaction(state.sessions, state.write_lock)
