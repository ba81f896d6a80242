"""The console's tables: users, sessions, login failures, audit, resolutions, articles, problems, changes and
the version changes linked to release records."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from alertrouter.models import Base


class Role(StrEnum):
    """What a console user may do: viewers read, engineers act on incidents, admins manage users."""

    viewer = "viewer"
    engineer = "engineer"
    admin = "admin"


RANK = {Role.viewer: 0, Role.engineer: 1, Role.admin: 2}


class Cause(StrEnum):
    """The root-cause taxonomy every resolution is filed under."""

    hardware = "hardware"
    network = "network"
    software = "software"
    configuration = "configuration"
    capacity = "capacity"
    vendor = "vendor"
    power = "power"
    human = "human"
    unknown = "unknown"


class User(Base):
    """A console user; the name is the person's id in the inventory when they are on a team."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str | None] = mapped_column(String(8))
    """zh or en; None follows the browser."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]


class UserSession(Base):
    """A server-side login session; the cookie holds a random token, the store only its hash."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class LoginFailure(Base):
    """One failed login, by user name and by client address; counted across replicas."""

    __tablename__ = "console_login_failures"
    __table_args__ = (Index("ix_console_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime]


class AuditEntry(Base):
    """One change made through the console or the JSON API, a login, or a retention pass: who, what, when,
    from where."""

    __tablename__ = "console_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    via: Mapped[str] = mapped_column(String(16), default="console", index=True)
    """console, api or worker."""


class Resolution(Base):
    """How an incident was fixed: root-cause category, what fixed it, time spent."""

    __tablename__ = "console_resolutions"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    cause: Mapped[str] = mapped_column(String(32), index=True)
    fix: Mapped[str] = mapped_column(Text)
    minutes_spent: Mapped[int] = mapped_column(Integer, default=0)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]


class Article(Base):
    """A knowledge-base article, written directly or made from a resolution."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    ci: Mapped[str | None] = mapped_column(String(64), index=True)
    alertname: Mapped[str | None] = mapped_column(String(200), index=True)
    service: Mapped[str | None] = mapped_column(String(64))
    cause: Mapped[str | None] = mapped_column(String(32))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Problem(Base):
    """Incidents that keep coming back on one CI and alert, tracked until their root cause is removed."""

    __tablename__ = "console_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    ci: Mapped[str | None] = mapped_column(String(64))
    alertname: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    """open, known_error or resolved."""
    root_cause: Mapped[str] = mapped_column(Text, default="")
    occurrences: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]


class ReleaseObservation(Base):
    """A version change seen on a CI (the VersionChanged alert) and the release record it was linked to."""

    __tablename__ = "console_release_observations"
    __table_args__ = (
        Index("ix_console_release_observations_alert", "fingerprint", "starts_at", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("console_changes.id", ondelete="CASCADE"), index=True)
    ci: Mapped[str] = mapped_column(String(64))
    component: Mapped[str] = mapped_column(String(64))
    version_from: Mapped[str] = mapped_column(String(200))
    version_to: Mapped[str] = mapped_column(String(200))
    observed_at: Mapped[dt.datetime]
    """When Prometheus first saw the new version (the alert's start)."""
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[dt.datetime]
    linked_at: Mapped[dt.datetime]


class ProblemIncident(Base):
    """An incident counted in a problem."""

    __tablename__ = "console_problem_incidents"

    problem_id: Mapped[int] = mapped_column(
        ForeignKey("console_problems.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Change(Base):
    """A change or maintenance window on some CIs, one-off or recurring, silenced in Alertmanager."""

    __tablename__ = "console_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    cis: Mapped[list[Any]]
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    ends_at: Mapped[dt.datetime]
    recurrence: Mapped[str] = mapped_column(String(16), default="none")
    """none, daily or weekly: the window repeats until `until`."""
    until: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), index=True)
    """planned, cancelled or done."""
    silence_id: Mapped[str | None] = mapped_column(String(64))
    silence_ends_at: Mapped[dt.datetime | None]
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(16), default="change", server_default="change")
    """change (maintenance, configuration) or release (a new version of a system, ITIL's 发布)."""
    system: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """A release's system: a CI id or a service id of the inventory."""
    version_from: Mapped[str] = mapped_column(String(200), default="", server_default="")
    version_to: Mapped[str] = mapped_column(String(200), default="", server_default="")
