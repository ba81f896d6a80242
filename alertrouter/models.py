"""The store: incidents, the alerts that feed them, their timeline, notifications and webhook deliveries."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from alertrouter.db import UtcDateTime


class Base(DeclarativeBase):
    """Declarative base with UTC datetimes and JSON dictionaries."""

    type_annotation_map = {dt.datetime: UtcDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Status(StrEnum):
    """An incident's lifecycle."""

    triggered = "triggered"
    acknowledged = "acknowledged"
    resolved = "resolved"
    closed = "closed"


OPEN = (Status.triggered.value, Status.acknowledged.value)


class Incident(Base):
    """One fault on one root CI, with its priority, owner and the explanation of both."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    title_msg: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The title as a message (`alertrouter.msg`): one the router wrote (an on-call gap), or an alert's with
    its rule's Chinese summary (`summary_zh`); None: an alert's title with no other language than `title`."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(2), index=True)
    explanation: Mapped[str] = mapped_column(Text)
    owner_explanation: Mapped[str] = mapped_column(Text, default="")
    explanation_msg: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The explanation's template and arguments, to say it in the reader's language (`alertrouter.msg`)."""
    owner_msg: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    severity: Mapped[str] = mapped_column(String(16))
    alertname: Mapped[str] = mapped_column(String(200), default="")
    ci: Mapped[str | None] = mapped_column(String(64), index=True)
    service: Mapped[str | None] = mapped_column(String(64), index=True)
    team: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64))
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    """The root CI (or alert fingerprint) while open, NULL after; one open incident per root."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    """The root cause's incident, when this one was opened before its cause was known."""
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    lease_until: Mapped[dt.datetime | None]

    departments: Mapped[list[IncidentDepartment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="IncidentDepartment.position"
    )


class IncidentDepartment(Base):
    """A department an incident affects, most critical first."""

    __tablename__ = "incident_departments"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Alert(Base):
    """One Alertmanager alert, identified by fingerprint and start time."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("fingerprint", "starts_at", name="uq_alerts_fingerprint_starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    alertname: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    ci: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    generator_url: Mapped[str] = mapped_column(Text, default="")
    redactions: Mapped[list[Any]] = mapped_column(default=list)
    """Where the PHI guard replaced a value with ``[redacted]``, and by which rule; never the value."""
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    first_received_at: Mapped[dt.datetime]
    last_received_at: Mapped[dt.datetime]
    receive_count: Mapped[int] = mapped_column(Integer, default=1)


class Event(Base):
    """One line of an incident's timeline."""

    __tablename__ = "timeline"
    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"), Index("ix_timeline_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64), default="router")
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Notification(Base):
    """One message to send, kept until delivered or given up (an outbox)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    incident_ids: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    """Every incident the message lists, when it lists several (children released together); else None."""
    channel: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    """pending, sent or failed (gave up)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    lease_until: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    purpose: Mapped[str] = mapped_column(String(16), default="page")
    """page (to whoever answers the incident) or ward (a downtime notice, which goes out even after the
    incident resolved: "the service is back, back-enter from paper")."""


class Delivery(Base):
    """One webhook delivery from Alertmanager, kept for truncated-alert fetches and intake statistics."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(index=True)
    receiver: Mapped[str] = mapped_column(String(200))
    group_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    alerts: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[int] = mapped_column(Integer, default=0)
    group_labels: Mapped[dict[str, Any]]
    fetch_status: Mapped[str | None] = mapped_column(String(16), index=True)
    """None (nothing to fetch), pending, done or failed."""
    lease_until: Mapped[dt.datetime | None]
    fetch_error: Mapped[str] = mapped_column(Text, default="")


# Tables for Core statements on the hot path, where the ORM's per-row bookkeeping costs more than SQL.
ALERTS: Table = Alert.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]
INCIDENTS: Table = Incident.__table__  # type: ignore[assignment]
DEPARTMENTS: Table = IncidentDepartment.__table__  # type: ignore[assignment]
