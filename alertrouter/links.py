"""Action links in pages: signed, expiring, single-purpose, single-use; they act as the person paged.

A link's code is 6 random bytes and the first 6 bytes of their HMAC under the router's signing key, 16
characters in all (short enough for an SMS). A forged code fails the signature before the store is asked;
a real one names a row saying which incident, which action (acknowledge, resolve or open) and for whom. It
stops working once used, once the incident has ended, or after `action_link_minutes`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from alertrouter.context import Router
from alertrouter.keys import router_key
from alertrouter.models import OPEN, Base, Incident
from alertrouter.msg import N_

RANDOM_BYTES = MAC_BYTES = 6


class Action(StrEnum):
    """What a link does."""

    acknowledge = "acknowledge"
    resolve = "resolve"
    open = "open"


class ActionLink(Base):
    """One link sent in one page to one person."""

    __tablename__ = "action_links"

    nonce: Mapped[str] = mapped_column(String(16), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    person: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None]


class Refused(Exception):
    """A link that cannot act, with the HTTP status and the reason to show (English; the page translates)."""

    def __init__(self, status: int, reason: str, link: ActionLink | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.link = link


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(key: str, nonce: bytes) -> bytes:
    return hmac.new(key.encode(), b"hospmon-action-link:" + nonce, hashlib.sha256).digest()[:MAC_BYTES]


def make_links(
    router: Router,
    incident_id: int,
    person: str,
    channel: str,
    actions: tuple[Action, ...],
    *,
    session: Session,
    now: dt.datetime,
) -> dict[Action, str]:
    """Store one link per action for a person and return their URLs."""
    key = router_key(router, session=session, now=now)
    expires = now + dt.timedelta(minutes=router.settings.file.action_link_minutes)
    base = router.settings.file.console_url.rstrip("/")
    urls = {}
    for action in actions:
        nonce = secrets.token_bytes(RANDOM_BYTES)
        session.add(
            ActionLink(
                nonce=_b64(nonce),
                incident_id=incident_id,
                action=action.value,
                person=person,
                channel=channel,
                created_at=now,
                expires_at=expires,
            )
        )
        urls[action] = f"{base}/a/{_b64(nonce + _mac(key, nonce))}"
    return urls


def _decode(code: str) -> tuple[bytes, bytes] | None:
    if len(code) != 16 or not code.replace("-", "").replace("_", "").isalnum():
        return None
    raw = base64.urlsafe_b64decode(code + "==")
    return raw[:RANDOM_BYTES], raw[RANDOM_BYTES:]


@dataclass(frozen=True)
class Valid:
    """A link that may act now, and its incident."""

    link: ActionLink
    incident: Incident


def check(router: Router, code: str, *, session: Session, now: dt.datetime) -> Valid:
    """Return the link and its incident if the link may act now, else raise `Refused` saying why."""
    parts = _decode(code)
    key = router_key(router, session=session, now=now)
    if parts is None or not hmac.compare_digest(parts[1], _mac(key, parts[0])):
        raise Refused(403, N_("This link is not valid."))
    link = session.get(ActionLink, _b64(parts[0]))
    if link is None:
        raise Refused(404, N_("This link is not valid."))
    if link.used_at is not None:
        raise Refused(410, N_("This link has been used already; each link works once."), link)
    if link.expires_at <= now:
        raise Refused(410, N_("This link has expired."), link)
    incident = session.get(Incident, link.incident_id)
    if incident is None:
        raise Refused(404, N_("This link is not valid."))
    if incident.status not in OPEN:
        raise Refused(409, N_("The incident has ended; its links no longer work."), link)
    return Valid(link, incident)


def use(router: Router, code: str, *, session: Session, now: dt.datetime) -> Valid:
    """Check a link and mark it used in the caller's transaction; a second use, even concurrent, fails."""
    valid = check(router, code, session=session, now=now)
    taken = session.execute(
        update(ActionLink)
        .where(ActionLink.nonce == valid.link.nonce, ActionLink.used_at.is_(None))
        .values(used_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        raise Refused(410, N_("This link has been used already; each link works once."), valid.link)
    return valid


def links_of(incident_id: int, *, session: Session) -> list[ActionLink]:
    """Return the links sent for an incident, newest first."""
    stmt = (
        select(ActionLink).where(ActionLink.incident_id == incident_id).order_by(ActionLink.created_at.desc())
    )
    return list(session.execute(stmt).scalars())
