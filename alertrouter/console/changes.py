"""Changes and maintenance windows: records on CIs, silenced in Alertmanager through its API v2."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.alertmanager import Alertmanager
from alertrouter.console.models import Change
from alertrouter.errors import NotFound
from alertrouter.models import Incident
from alertrouter.msg import N_

RECURRENCES = {"none": None, "daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
KINDS = ("change", "release")


@dataclass(frozen=True)
class Release:
    """What a release record adds to a change: the system and its version from and to."""

    system: str
    version_from: str
    version_to: str


def window_at(change: Change, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """Return the change's window now under way, else its next one, else None."""
    step = RECURRENCES[change.recurrence]
    start, end = change.starts_at, change.ends_at
    if step is not None:
        last = change.until or (now + dt.timedelta(days=366))
        if end <= now:
            skip = int((now - end) / step) + 1
            start, end = start + skip * step, end + skip * step
        if start > last:
            return None
    return (start, end) if end > now else None


def create_change(
    title: str,
    *,
    session: Session,
    cis: list[str],
    starts: dt.datetime,
    ends: dt.datetime,
    recurrence: str,
    until: dt.datetime | None,
    description: str,
    author: str,
    now: dt.datetime,
    release: Release | None = None,
) -> Change:
    """Record a change, or a release when `release` is given; `sync` creates its silence.

    A refusal's reason is a msgid of the catalogs: the console says it in the reader's language.
    """
    if ends <= starts:
        raise ValueError(N_("the window must end after it starts"))
    if recurrence not in RECURRENCES:
        raise ValueError(f"recurrence: one of {', '.join(RECURRENCES)}")
    if release is not None:
        if not release.version_to.strip():
            raise ValueError(N_("a release needs the version it brings (version to)"))
        if recurrence != "none":
            raise ValueError(N_("a release happens once: it does not repeat"))
    change = Change(
        title=title[:300],
        description=description,
        cis=cis,
        starts_at=starts,
        ends_at=ends,
        recurrence=recurrence,
        until=until,
        status="planned",
        author=author,
        created_at=now,
        kind="release" if release is not None else "change",
        system=release.system if release is not None else "",
        version_from=release.version_from.strip()[:200] if release is not None else "",
        version_to=release.version_to.strip()[:200] if release is not None else "",
    )
    session.add(change)
    session.flush()
    return change


def sync(*, session: Session, am: Alertmanager | None, now: dt.datetime) -> None:
    """Keep one silence per planned change on its current or next window; finish changes that are over;
    lift the silences of cancelled changes."""
    # A cancel commits before its silence is lifted (`cancel`): a silence Alertmanager did not end then is
    # still on the cancelled change, and ended here on the next pass.
    lifting = (Change.status == "cancelled") & Change.silence_id.is_not(None)
    query = select(Change).where((Change.status == "planned") | lifting).order_by(Change.id)
    if session.get_bind().dialect.name == "postgresql":
        # Replicas syncing at once each take different changes, so no window gets two silences.
        query = query.with_for_update(skip_locked=True)
    for change in session.execute(query).scalars():
        window = window_at(change, now) if change.status == "planned" else None
        if window is None:
            if change.status == "planned":
                change.status = "done"
            ends = change.silence_ends_at
            if change.silence_id and am is not None and ends is not None and ends > now:
                am.expire_silence(change.silence_id)
            change.silence_id = change.silence_ends_at = None
            continue
        if am is None or change.silence_ends_at == window[1]:
            continue
        change.silence_id = am.create_silence(
            list(change.cis), window[0], window[1], change.author, f"change {change.id}: {change.title}"
        )
        change.silence_ends_at = window[1]


def cancel(change_id: int, *, session: Session) -> Change:
    """Cancel a change; `sync` lifts its silence once the cancel is committed.

    Lifting first would leave the CIs unsilenced under a change still planned if the commit failed; the
    other order leaves at worst a silence on a cancelled change, which every `sync` keeps trying to end.
    """
    change = get_change_or_raise(change_id, session=session)
    change.status = "cancelled"
    return change


def get_change_or_raise(change_id: int, *, session: Session) -> Change:
    """Return a change or raise NotFound."""
    change = session.get(Change, change_id)
    if change is None:
        raise NotFound(f"no change {change_id}")
    return change


def list_changes(*, session: Session, limit: int = 200) -> list[Change]:
    """Return changes, latest window first."""
    stmt = select(Change).order_by(Change.starts_at.desc()).limit(limit)
    return list(session.execute(stmt).scalars())


def covers(change: Change, ci: str, at: dt.datetime) -> bool:
    """Tell whether one of a change's windows on a CI covered a moment."""
    if ci not in change.cis or at < change.starts_at or change.status == "cancelled":
        return False
    length, step = change.ends_at - change.starts_at, RECURRENCES[change.recurrence]
    if step is None:
        return at < change.ends_at
    if change.until is not None and at > change.until + length:
        return False
    return (at - change.starts_at) % step < length


def change_during(ci: str | None, at: dt.datetime, *, session: Session) -> Change | None:
    """Return a change (not cancelled) whose window on the CI covered a moment, if any."""
    if ci is None:
        return None
    stmt = select(Change).where(Change.status != "cancelled", Change.starts_at <= at)
    return next((c for c in session.execute(stmt).scalars() if covers(c, ci, at)), None)


def during_changes(incidents: list[Incident], *, session: Session) -> set[int]:
    """Return the ids of the incidents that opened inside a change window on their CI."""
    if not incidents:
        return set()
    first = min(i.created_at for i in incidents)
    stmt = select(Change).where(Change.status != "cancelled")
    found = [c for c in session.execute(stmt).scalars() if c.recurrence != "none" or c.ends_at > first]
    return {i.id for i in incidents if i.ci and any(covers(c, i.ci, i.created_at) for c in found)}
