"""Fetch the alerts a webhook left out (``truncatedAlerts``) from Alertmanager's API v2, and ingest them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import requests
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.alertmanager import Alertmanager
from alertrouter.context import Router
from alertrouter.db import transaction
from alertrouter.intake.parser import PayloadError, WebhookMessage, parse_api_alert
from alertrouter.intake.service import ingest
from alertrouter.models import Delivery
from alertrouter.worker.claim import skip_locked
from hospmon.phi import REDACTED

RETRY = dt.timedelta(seconds=30)
GIVE_UP = dt.timedelta(hours=1)


def muted(raw: Any) -> bool:
    """Tell whether Alertmanager says an API v2 alert is silenced, inhibited or muted by a time interval."""
    status = raw.get("status") if isinstance(raw, dict) else None
    if not isinstance(status, dict):
        return False
    return status.get("state") == "suppressed" or any(
        status.get(key) for key in ("silencedBy", "inhibitedBy", "mutedBy")
    )


def fetch_group(router: Router, delivery: Delivery) -> WebhookMessage:
    """Ask Alertmanager for every active alert of a delivery's group."""
    am = Alertmanager.from_settings(router.settings)
    assert am is not None
    # A group label the PHI guard replaced matches nothing: leave it out (ingest guards what comes back).
    labels = {k: v for k, v in delivery.group_labels.items() if v != REDACTED}
    raw = am.alerts(labels, delivery.receiver or None)
    if not isinstance(raw, list):
        raise PayloadError("Alertmanager API v2 answered with something other than a list")
    alerts = [parse_api_alert(a, f"api[{i}]") for i, a in enumerate(raw) if not muted(a)]
    return WebhookMessage(
        delivery.receiver, "firing", delivery.group_key, 0, delivery.group_labels, am.url, alerts
    )


def fetch_truncated(
    router: Router,
    sessions: sessionmaker[Session],
    *,
    now: Callable[[], dt.datetime],
    lock: AbstractContextManager[Any] | None = None,
) -> int:
    """Fetch and ingest the missing alerts of pending deliveries; return how many deliveries were done."""
    at = now()
    with transaction(sessions, lock) as session:
        query = (
            select(Delivery)
            .where(
                Delivery.fetch_status == "pending",
                or_(Delivery.lease_until.is_(None), Delivery.lease_until < at),
            )
            .limit(5)
        )
        claimed = list(session.execute(skip_locked(query, session)).scalars())
        for d in claimed:
            d.lease_until = at + RETRY
    done = 0
    for delivery in claimed:
        try:
            message = fetch_group(router, delivery)
        except (requests.RequestException, PayloadError, ValueError) as exc:
            with transaction(sessions, lock) as session:
                row = session.get(Delivery, delivery.id)
                assert row is not None
                row.fetch_error = str(exc)[:2000]
                if now() - row.received_at > GIVE_UP:
                    row.fetch_status = "failed"
            continue
        with transaction(sessions, lock) as session:
            ingest(message, session=session, router=router, now=now())
            row = session.get(Delivery, delivery.id)
            assert row is not None
            row.fetch_status, row.fetch_error = "done", ""
        done += 1
    return done
