"""Send queued notifications; record each delivery or failure on the timeline; retry with back-off.

A message is marked ``sending`` in one commit just before it goes out and ``sent`` in another just after, so
a crash leaves it either untouched (sent later: no harm) or in doubt (sent again with the same idempotency
key, and the timeline and the message say it may repeat). Leases are short and renewed while a send runs:
another replica takes over a dead worker's messages within `LEASE`, and never one still being sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.context import Router
from alertrouter.db import transaction
from alertrouter.models import OPEN, Incident, Notification
from alertrouter.msg import T
from alertrouter.notify.channels import DeliveryError, send
from alertrouter.settings import ChannelConfig, Settings
from alertrouter.timeline import record
from alertrouter.worker.claim import skip_locked

log = logging.getLogger("alertrouter.worker")

Sender = Callable[[ChannelConfig, Settings, str, str, str, str], None]
"""channel, settings, recipient, subject, body, idempotency key."""
LEASE = dt.timedelta(seconds=30)
HEARTBEAT_SECONDS = 10.0
IN_DOUBT = (
    "\n\n(因发送中断而重发。您可能已收到过此消息。"
    " Sent again after an interruption: you may have had this message already.)"
)
Clock = Callable[[], dt.datetime]


def claim(*, session: Session, now: dt.datetime, limit: int = 20) -> dict[int, dt.datetime]:
    """Lease due notifications, and those a dead worker left in doubt; return their ids and leases."""
    query = (
        select(Notification.id)
        .where(
            Notification.status.in_(("pending", "sending")),
            Notification.next_attempt_at <= now,
            or_(Notification.lease_until.is_(None), Notification.lease_until <= now),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    ids = list(session.execute(skip_locked(query, session)).scalars())
    if ids:
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(lease_until=now + LEASE))
    return dict.fromkeys(ids, now + LEASE)


def idempotency_key(note: Notification) -> str:
    """Return the key that stays the same on every attempt to send one message."""
    return f"hospmon-{note.id}-{int(note.created_at.timestamp())}"


@dataclass(frozen=True)
class Attempt:
    """A message about to go out under a lease."""

    note: Notification
    lease: dt.datetime
    in_doubt: bool


def deliver_due(
    router: Router,
    sessions: sessionmaker[Session],
    *,
    now: Clock,
    sender: Sender = send,
    lock: AbstractContextManager[Any] | None = None,
) -> int:
    """Send what is due, outside any transaction, then record the outcome; return how many were claimed."""
    with transaction(sessions, lock) as session:
        claimed = claim(session=session, now=now())
    channels = {c.name: c for c in router.settings.file.channels}
    for nid, lease in claimed.items():
        with transaction(sessions, lock) as session:
            attempt = _begin(session, nid, lease, now())
        if attempt is None:
            continue
        note = attempt.note
        channel = channels.get(note.channel)
        error = ""
        body = note.body + (IN_DOUBT if attempt.in_doubt else "")
        try:
            if channel is None:
                raise DeliveryError(f"channel {note.channel} is no longer configured")
            with _heartbeat(sessions, nid, attempt.lease, now, lock):
                sender(channel, router.settings, note.recipient, note.subject, body, idempotency_key(note))
        except DeliveryError as exc:
            error = str(exc)[:2000]
        except Exception as exc:  # a channel library failing must not stop the other deliveries
            error = f"{type(exc).__name__}: {exc}"[:2000]
        with transaction(sessions, lock) as session:
            _outcome(router, session, nid, error, now())
    return len(claimed)


def _begin(session: Session, nid: int, lease: dt.datetime, at: dt.datetime) -> Attempt | None:
    """Record that a message is going out now, unless another replica took it or its incident is over."""
    renewed = at + LEASE
    taken = session.execute(
        update(Notification)
        .where(Notification.id == nid, Notification.lease_until == lease)
        .values(lease_until=renewed)
    ).rowcount  # type: ignore[attr-defined]
    note = session.get(Notification, nid) if taken else None
    if note is None:
        return None
    where = T("{channel} to {recipient}", channel=note.channel, recipient=note.recipient)
    inc = session.get(Incident, note.incident_id)
    if (
        inc is not None
        and inc.status not in OPEN
        and note.purpose == "page"
        and not _others_open(session, note)
    ):
        # Resolved before this went out: waking someone for a fault that is gone helps nobody (a ward
        # notice still goes: "the HIS is back, back-enter from paper" is sent because it resolved; a message
        # listing several incidents goes while one of them still fails); the
        # timeline says what was held back, for the morning review.
        note.status, note.lease_until = "cancelled", None
        ended = {"where": where, "status": T(inc.status)}
        text = (
            T("not sent via {where}: the incident was {status} at {time} UTC before this message went out",
              time=f"{inc.resolved_at:%Y-%m-%d %H:%M:%S}", **ended)
            if inc.resolved_at
            else T("not sent via {where}: the incident was {status} before this message went out", **ended)
        )  # fmt: skip
        record(
            session,
            note.incident_id,
            "notification_cancelled",
            text,
            at=at,
            data={"notification_id": nid},
        )
        return None
    in_doubt = note.status == "sending"
    if in_doubt:
        note.attempts += 1  # the interrupted attempt
        record(
            session,
            note.incident_id,
            "notification_in_doubt",
            T(
                "sending again via {where}: a worker stopped while sending it, so it may arrive twice",
                where=where,
            ),
            at=at,
            data={"notification_id": nid, "key": idempotency_key(note)},
        )
    note.status = "sending"
    return Attempt(note, renewed, in_doubt)


def _others_open(session: Session, note: Notification) -> bool:
    """Tell whether another incident a message lists is still open: then it still has something to say."""
    others = [i for i in note.incident_ids or [] if i != note.incident_id]
    if not others:
        return False
    query = (
        select(func.count()).select_from(Incident).where(Incident.id.in_(others), Incident.status.in_(OPEN))
    )
    return bool(session.execute(query).scalar())


@contextmanager
def _heartbeat(
    sessions: sessionmaker[Session],
    nid: int,
    lease: dt.datetime,
    now: Clock,
    lock: AbstractContextManager[Any] | None,
) -> Iterator[None]:
    """Renew a message's lease while it is being sent, so no replica sends it too however long it takes."""
    stop = threading.Event()
    held = [lease]

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            renewed = now() + LEASE
            try:
                with transaction(sessions, lock) as session:
                    session.execute(
                        update(Notification)
                        .where(Notification.id == nid, Notification.lease_until == held[0])
                        .values(lease_until=renewed)
                    )
            except SQLAlchemyError as exc:  # the store is away; the send goes on, the lease may lapse
                log.warning("could not renew the lease of notification %s: %s", nid, exc)
                continue
            held[0] = renewed

    thread = threading.Thread(target=beat, name=f"outbox-lease-{nid}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _outcome(router: Router, session: Session, nid: int, error: str, at: dt.datetime) -> None:
    note = session.get(Notification, nid)
    assert note is not None
    worker = router.settings.file.worker
    note.attempts += 1
    note.lease_until = None
    where = T("{channel} to {recipient}", channel=note.channel, recipient=note.recipient)
    if not error:
        note.status, note.sent_at = "sent", at
        record(
            session,
            note.incident_id,
            "notification_sent",
            T("sent via {where}", where=where),
            at=at,
            data={"notification_id": nid},
        )
        return
    note.last_error = error
    final = note.attempts >= worker.max_attempts
    if final:
        note.status = "failed"
    else:
        note.status = "pending"
        note.next_attempt_at = at + dt.timedelta(seconds=worker.retry_seconds * 2 ** (note.attempts - 1))
    record(
        session,
        note.incident_id,
        "notification_failed",
        T("gave up via {where} (attempt {attempt}): {error}", where=where, attempt=note.attempts, error=error)
        if final
        else T(
            "failed via {where} (attempt {attempt}): {error}", where=where, attempt=note.attempts, error=error
        ),
        at=at,
        data={"notification_id": nid, "final": final},
    )
