"""Send queued notifications; record each delivery or failure on the timeline; retry with back-off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.context import Router
from alertrouter.db import transaction
from alertrouter.models import Notification
from alertrouter.notify.channels import DeliveryError, send
from alertrouter.settings import ChannelConfig, Settings
from alertrouter.timeline import record
from alertrouter.worker.claim import skip_locked

Sender = Callable[[ChannelConfig, Settings, str, str, str], None]
LEASE = dt.timedelta(minutes=2)


def claim(*, session: Session, now: dt.datetime, limit: int = 20) -> list[Notification]:
    """Lease due notifications to this worker; another replica skips them until the lease ends."""
    query = (
        select(Notification)
        .where(
            Notification.status == "pending",
            Notification.next_attempt_at <= now,
            or_(Notification.lease_until.is_(None), Notification.lease_until < now),
        )
        .order_by(Notification.next_attempt_at)
        .limit(limit)
    )
    notes = list(session.execute(skip_locked(query, session)).scalars())
    if notes:
        ids = [n.id for n in notes]
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(lease_until=now + LEASE))
    return notes


def deliver_due(
    router: Router,
    sessions: sessionmaker[Session],
    *,
    now: Callable[[], dt.datetime],
    sender: Sender = send,
    lock: AbstractContextManager[Any] | None = None,
) -> int:
    """Send what is due, outside any transaction, then record the outcome; return how many were tried."""
    with transaction(sessions, lock) as session:
        claimed = claim(session=session, now=now())
    channels = {c.name: c for c in router.settings.file.channels}
    for item in claimed:
        channel = channels.get(item.channel)
        error = ""
        try:
            if channel is None:
                raise DeliveryError(f"channel {item.channel} is no longer configured")
            sender(channel, router.settings, item.recipient, item.subject, item.body)
        except DeliveryError as exc:
            error = str(exc)[:2000]
        except Exception as exc:  # a channel library failing must not stop the other deliveries
            error = f"{type(exc).__name__}: {exc}"[:2000]
        with transaction(sessions, lock) as session:
            _outcome(router, session, item.id, error, now())
    return len(claimed)


def _outcome(router: Router, session: Session, nid: int, error: str, at: dt.datetime) -> None:
    note = session.get(Notification, nid)
    assert note is not None
    worker = router.settings.file.worker
    note.attempts += 1
    note.lease_until = None
    where = f"{note.channel} to {note.recipient}"
    if not error:
        note.status, note.sent_at = "sent", at
        record(
            session,
            note.incident_id,
            "notification_sent",
            f"sent via {where}",
            at=at,
            data={"notification_id": nid},
        )
        return
    note.last_error = error
    final = note.attempts >= worker.max_attempts
    if final:
        note.status = "failed"
    else:
        note.next_attempt_at = at + dt.timedelta(seconds=worker.retry_seconds * 2 ** (note.attempts - 1))
    record(
        session,
        note.incident_id,
        "notification_failed",
        f"{'gave up' if final else 'failed'} via {where} (attempt {note.attempts}): {error}",
        at=at,
        data={"notification_id": nid, "final": final},
    )
