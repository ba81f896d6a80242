"""Start and end playbooks, and tell the ward contacts: a worker job, safe on every replica.

When a playbook's condition first holds, one replica opens its run (a unique key, as incidents have), writes
it on the incident's timeline and queues a notice to every listed ward contact (e-mail and SMS channels).
When the service works again, the run ends and the contacts hear that it is back, with the back-entry steps.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from alertrouter.context import Router
from alertrouter.db import insert_for
from alertrouter.models import Base, Notification
from alertrouter.msg import N_, T
from alertrouter.notify.lang import translator
from alertrouter.timeline import record
from alertrouter.wards.playbooks import Playbook, WardContact
from alertrouter.wards.status import State, condition_holds, service_states

SMS_LIMIT = 70
STARTED = N_("{service}: downtime playbook in force; {notices} notices to {contacts} ward contacts")
BACK = N_("{service}: service back, back-entry steps sent; {notices} notices to {contacts} ward contacts")


class PlaybookRun(Base):
    """One time a playbook applied: from when its condition held until its service worked again."""

    __tablename__ = "playbook_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(64), index=True)
    active_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The service while the run is on, NULL after: one run per service at a time, across replicas."""
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    down_since: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None] = mapped_column(index=True)


def runs(*, session: Session, since: dt.datetime) -> list[PlaybookRun]:
    """Return the runs on now and those that ended after `since`, newest first."""
    stmt = select(PlaybookRun).where(PlaybookRun.ended_at.is_(None) | (PlaybookRun.ended_at > since))
    return list(session.execute(stmt.order_by(PlaybookRun.started_at.desc())).scalars())


def run_playbooks(router: Router, *, session: Session, now: dt.datetime) -> int:
    """Start the playbooks whose condition holds, end those whose service is back; return the changes."""
    if not router.playbooks:
        return 0
    states = service_states(router, session=session)
    active = {
        r.service: r
        for r in session.execute(select(PlaybookRun).where(PlaybookRun.ended_at.is_(None))).scalars()
    }
    changed = 0
    for service, book in router.playbooks.items():
        state = states[service]
        run = active.get(service)
        if run is None and condition_holds(router, book, state, now):
            changed += _start(router, book, state.incidents[0], state.since or now, session=session, now=now)
        elif run is not None and state.state is not State.down:
            run.ended_at, run.active_key = now, None
            _tell(router, book, run, back=True, session=session, now=now)
            changed += 1
    return changed


def _start(
    router: Router,
    book: Playbook,
    incident_id: int,
    since: dt.datetime,
    *,
    session: Session,
    now: dt.datetime,
) -> int:
    stmt = (
        insert_for(session)(PlaybookRun)
        .values(service=book.service, active_key=book.service, incident_id=incident_id, down_since=since,
                started_at=now, ended_at=None)
        .on_conflict_do_nothing()
        .returning(PlaybookRun.id)
    )  # fmt: skip
    run_id = session.execute(stmt).scalar()
    if run_id is None:  # another replica started it a moment ago
        return 0
    run = session.get(PlaybookRun, run_id)
    assert run is not None
    _tell(router, book, run, back=False, session=session, now=now)
    return 1


def _tell(
    router: Router, book: Playbook, run: PlaybookRun, *, back: bool, session: Session, now: dt.datetime
) -> None:
    """Queue the notice to every contact, and say so on the incident's timeline."""
    lang = router.settings.file.language
    _ = translator(lang)
    service = router.inventory.services[book.service]
    svc_name = (service.name.zh or service.name.en) if lang == "zh" else (service.name.en or service.name.zh)
    minutes = max(int((now - run.down_since).total_seconds() // 60), 0)
    status_url = f"{router.settings.file.console_url.rstrip('/')}/status"
    if back:
        subject = _("%(service)s works again: back-enter what was done on paper") % {"service": svc_name}
        steps, short = (
            book.back_entry,
            _("%(service)s is back; back-enter from paper:") % {"service": svc_name},
        )
    else:
        subject = _("%(service)s down %(minutes)s minutes: switch to the downtime procedure") % {
            "service": svc_name,
            "minutes": minutes,
        }
        steps, short = (
            book.do,
            _("%(service)s down %(minutes)s min, use paper:") % {"service": svc_name, "minutes": minutes},
        )
    lines = [subject, ""] + [f"{n}. {_text(s, lang)}" for n, s in enumerate(steps, 1)]
    if book.call and not back:
        lines += ["", _("Call") + ":"] + [f"- {_text(c, lang)}" for c in book.call]
    lines += ["", f"{_('Ward status page')}: {status_url}"]
    body = "\n".join(lines)
    sms = f"{short} {status_url}"
    sms = sms if len(sms) <= SMS_LIMIT else f"{short[: SMS_LIMIT - len(status_url) - 2]}… {status_url}"
    queued = 0
    for contact in book.contacts:
        queued += _queue(router, run, contact, subject, body, sms, session=session, now=now)
    if run.incident_id is not None:
        kind = "playbook_ended" if back else "playbook_started"
        counts = {"service": book.service, "notices": queued, "contacts": len(book.contacts)}
        text = T(BACK if back else STARTED, **counts)
        record(
            session,
            run.incident_id,
            kind,
            text,
            at=now,
            data={"run": run.id, "contacts": len(book.contacts), "notices": queued},
        )


def _queue(
    router: Router,
    run: PlaybookRun,
    contact: WardContact,
    subject: str,
    body: str,
    sms: str,
    *,
    session: Session,
    now: dt.datetime,
) -> int:
    if run.incident_id is None:
        return 0
    queued = 0
    for channel in router.settings.file.channels:
        address = (
            contact.email if channel.kind == "email" else contact.phone if channel.kind == "sms" else None
        )
        if not address:
            continue
        text = body if channel.kind == "email" else sms
        session.add(
            Notification(
                incident_id=run.incident_id, channel=channel.name, recipient=address,
                subject=subject if channel.kind == "email" else "", body=text, status="pending", attempts=0,
                next_attempt_at=now, created_at=now, last_error="", purpose="ward",
            )
        )  # fmt: skip
        queued += 1
    return queued


def _text(name: object, lang: str) -> str:
    zh, en = getattr(name, "zh", ""), getattr(name, "en", "")
    return str((zh or en) if lang == "zh" else (en or zh))
