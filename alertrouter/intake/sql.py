"""The intake's statements, built once per dialect so SQLAlchemy compiles each once and only binds values.

A statement built per delivery (``insert(...).values(**row)``, ``.in_(list)``) costs SQLAlchemy a cache key
walk over every value on each execution, more CPU than the database spends on the statement; these take
their values as parameters instead (``bench/router_ingest.py`` measures the intake).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.types import TypeEngine

from alertrouter.models import ALERTS, DEPARTMENTS, EVENTS, INCIDENTS
from alertrouter.policy.rota import ONCALL_CHANGES


@dataclass(frozen=True)
class Statements:
    """The intake's statements for one dialect; each takes its values as parameters."""

    lookup: Executable
    """In one round trip: the alerts stored under fingerprints ``fps`` (kind ``alert``: id, fingerprint,
    start, status, incident, end, incident status), the open incidents on keys ``keys`` (kind
    ``incident``: id, key, -, priority, parent) and the console's on-call changes in force after ``now``
    (kind ``change``: id, team, start, override or absence, -, end, person)."""
    open_incidents: Executable
    """Open incidents by open key (``keys``)."""
    insert_incidents: Executable
    """Incidents; returns their ids in the order given, or fewer rows when another holds an open key."""
    insert_departments: Executable
    insert_alerts: Executable
    """New alerts; returns the id, fingerprint and start of each one inserted (none for a repeat)."""
    insert_events: Executable
    repeated: Executable
    """Count one more receipt of stored alerts (``ids``) at ``now``."""
    children: Executable
    """Open root incidents on open keys (``keys``)."""
    adopt: Executable
    """Make incident ``child`` a child of ``root`` and stop its paging."""


def _one_of(
    column: ColumnElement[Any], name: str, item: TypeEngine[Any], dialect: str
) -> ColumnElement[bool]:
    """Say that `column` is one of the list bound as `name`, in SQL that stays the same whatever its length.

    An expanding ``IN`` is rendered anew for each length of list; an array (PostgreSQL) or a JSON array
    (SQLite) is one parameter, so the statement is compiled, and prepared by the server, once.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(item)))
    values = func.json_each(bindparam(name, type_=JSON)).table_valued("value")
    return column.in_(select(values.c.value))


@cache
def statements(dialect: str) -> Statements:
    """Return the statements for a dialect (``postgresql`` or ``sqlite``)."""
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inc = INCIDENTS.c
    alerts = select(
        literal_column("'alert'").label("kind"),
        ALERTS.c.id,
        ALERTS.c.fingerprint.label("key"),
        ALERTS.c.starts_at,
        ALERTS.c.status.label("state"),
        ALERTS.c.incident_id.label("ref"),
        ALERTS.c.ends_at,
        # Whether its incident is open: a new start is a copy of a firing alert only then (copies.py).
        select(inc.status).where(inc.id == ALERTS.c.incident_id).scalar_subquery().label("incident_status"),
    ).where(_one_of(ALERTS.c.fingerprint, "fps", String(), dialect))
    incidents = select(
        literal_column("'incident'"),
        inc.id,
        inc.open_key,
        null(),
        inc.priority,
        inc.parent_id,
        null(),
        null(),
    ).where(_one_of(inc.open_key, "keys", String(), dialect))
    rota = ONCALL_CHANGES.c
    # A delivery that opens an incident names its owner from the on-call plan: read with the rest.
    changes = select(
        literal_column("'change'"),
        rota.id,
        rota.team,
        rota.starts_at,
        rota.kind,
        null(),
        rota.ends_at,
        rota.person,
    ).where(rota.cancelled_at.is_(None), rota.ends_at > bindparam("now", type_=rota.ends_at.type))
    return Statements(
        lookup=union_all(alerts, incidents, changes),
        open_incidents=select(inc.id, inc.open_key, inc.priority, inc.parent_id).where(
            _one_of(inc.open_key, "keys", String(), dialect)
        ),
        insert_incidents=insert(INCIDENTS)
        .on_conflict_do_nothing()
        .returning(inc.id, sort_by_parameter_order=True),
        insert_departments=DEPARTMENTS.insert(),
        insert_alerts=insert(ALERTS)
        .on_conflict_do_nothing()
        .returning(ALERTS.c.id, ALERTS.c.fingerprint, ALERTS.c.starts_at, sort_by_parameter_order=True),
        insert_events=EVENTS.insert(),
        repeated=update(ALERTS)
        .where(_one_of(ALERTS.c.id, "ids", Integer(), dialect))
        .values(last_received_at=bindparam("now"), receive_count=ALERTS.c.receive_count + 1),
        children=select(inc.id, inc.ci).where(
            _one_of(inc.open_key, "keys", String(), dialect), inc.parent_id.is_(None)
        ),
        adopt=update(INCIDENTS)
        .where(inc.id == bindparam("child"))
        .values(parent_id=bindparam("root"), next_escalation_at=None),
    )


def statements_for(conn: Connection) -> Statements:
    """Return the statements for a connection's dialect."""
    return statements(conn.dialect.name)
