"""Raise an incident for each team that will have nobody on call soon; resolve it when the gap is gone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.db import insert_for
from alertrouter.models import OPEN, Incident, Status
from alertrouter.msg import Ref, T, stored
from alertrouter.policy.oncall import gaps_ahead
from alertrouter.policy.rota import plan
from alertrouter.timeline import record

PREFIX = "oncall-gap:"


def check_gaps(router: Router, *, session: Session, now: dt.datetime) -> dict[str, dt.datetime]:
    """Open one incident per team with a gap ahead; resolve those whose gap was filled. Return the gaps."""
    horizon = dt.timedelta(days=router.settings.file.worker.oncall_horizon_days)
    gaps = gaps_ahead(router.inventory, plan(router, session=session), now, horizon)
    insert = insert_for(session)
    tz = router.inventory.tz
    # Look first: on PostgreSQL every INSERT draws an incident number, even one that ON CONFLICT then drops,
    # and this runs every pass; the INSERT stays only for two replicas finding the same new gap at once.
    raised = set(
        session.execute(
            select(Incident.open_key).where(Incident.open_key.in_([PREFIX + t for t in gaps]))
        ).scalars()
    )
    for team_id, when in gaps.items():
        if PREFIX + team_id in raised:
            continue
        team = router.inventory.teams[team_id]
        named = Ref("team", team_id, str(team.name))
        text = T(
            "Nobody on call for {team} from {time}", team=named, time=f"{when.astimezone(tz):%Y-%m-%d %H:%M}"
        )
        why = T("P3: {gap}; fix the rotation, an override or an absence in the policy", gap=text)
        owner = T("owner {team}; lead {lead}", team=named, lead=team.lead or T("none"))
        stmt = (
            insert(Incident)
            .values(
                title=text,
                title_msg=stored(text),
                status=Status.triggered,
                priority="P3",
                explanation=why,
                explanation_msg=stored(why),
                owner_explanation=owner,
                owner_msg=stored(owner),
                severity="warning",
                alertname="OnCallGap",
                ci=None,
                service=None,
                team=team_id,
                assignee=team.lead,
                open_key=PREFIX + team_id,
                created_at=now,
                escalation_step=0,
                next_escalation_at=now,
            )
            .on_conflict_do_nothing()
            .returning(Incident.id)
        )
        new_id = session.execute(stmt).scalar()
        if new_id is not None:
            record(session, new_id, "opened", text, at=now, data={"gap_at": when.isoformat()})
    stale = session.execute(
        select(Incident).where(Incident.open_key.like(PREFIX + "%"), Incident.status.in_(OPEN))
    ).scalars()
    for inc in stale:
        if inc.team not in gaps:
            inc.status, inc.resolved_at, inc.open_key, inc.next_escalation_at = (
                Status.resolved,
                now,
                None,
                None,
            )
            record(
                session,
                inc.id,
                "resolved",
                T("resolved: someone is on call for the whole horizon now"),
                at=now,
            )
    return gaps
