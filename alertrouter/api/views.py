"""``/api/v1``: list and read incidents, acknowledge, assign, resolve, close, add notes; on-call now."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from alertrouter import incidents as svc
from alertrouter.api.openapi import document
from alertrouter.api.serialize import alert_json, event_json, incident_json
from alertrouter.console.audit import audit
from alertrouter.errors import ApiError
from alertrouter.freetext import check_texts
from alertrouter.intake.body import json_body
from alertrouter.intake.parser import PayloadError, check_text
from alertrouter.msg import T
from alertrouter.notify.queue import page
from alertrouter.policy.oncall import on_call
from alertrouter.policy.rota import plan
from alertrouter.settings import PRIORITIES
from alertrouter.state import current_state, writing

bp = Blueprint("api", __name__, url_prefix="/api/v1")
STATUSES = ("triggered", "acknowledged", "resolved", "closed")


def _actor() -> str:
    """Return the actor the bearer token names, or raise 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer":
        for known, actor in current_state().router.settings.api_tokens.items():
            if hmac.compare_digest(token.strip().encode(), known.encode()):
                return actor
    raise ApiError(401, "give an API token: Authorization: Bearer TOKEN")


def _body() -> dict[str, Any]:
    data = json_body(current_state().router.settings.file.max_body_bytes)
    if not isinstance(data, dict):
        raise ApiError(400, "body: expected a JSON object")
    return data


def _text(data: dict[str, Any], key: str, *, required: bool) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(400, f"{key}: expected a {'non-empty ' if required else ''}string")
    try:
        return check_text(value, key, 10_000).strip()
    except PayloadError as exc:
        raise ApiError(400, str(exc)) from None


def _prose(data: dict[str, Any], key: str, *, required: bool) -> str:
    """Return free text a person typed (a note, a reason); 400 where the PHI guard finds a patient in it."""
    text = _text(data, key, required=required)
    check_texts(current_state().router.guard, {key: text})
    return text


def _choices(name: str, allowed: tuple[str, ...]) -> list[str] | None:
    values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ApiError(400, f"{name}: unknown {', '.join(bad)}; use {', '.join(allowed)}")
    return values or None


def _int(name: str, default: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise ApiError(400, f"{name}: expected an integer from 0 to {high}")
    return int(raw)


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document."""
    return jsonify(document())


@bp.get("/incidents")
def list_incidents() -> Response:
    """List incidents, filtered by status, priority, team, service, department or CI."""
    _actor()
    flt = svc.IncidentFilter(
        status=_choices("status", STATUSES),
        priority=_choices("priority", PRIORITIES),
        team=request.args.get("team"),
        service=request.args.get("service"),
        department=request.args.get("department"),
        ci=request.args.get("ci"),
        limit=_int("limit", 100, 1000),
        offset=_int("offset", 0, 10**9),
    )
    with current_state().sessions() as session:
        found = svc.list_incidents(flt, session=session)
        return jsonify({"incidents": [incident_json(i) for i in found]})


@bp.get("/incidents/<int:incident_id>")
def get_incident(incident_id: int) -> Response:
    """Return one incident with its alerts, timeline and the incidents it caused."""
    _actor()
    with current_state().sessions() as session:
        inc = svc.get_incident_or_raise(incident_id, session=session)
        body: dict[str, Any] = {
            **incident_json(inc),
            "alerts": [alert_json(a) for a in svc.alerts_of(incident_id, session=session)],
            "timeline": [event_json(e) for e in svc.timeline_of(incident_id, session=session)],
            "children": svc.children_of(incident_id, session=session),
        }
        return jsonify(body)


def _audit(session: Session, action: str, incident_id: int, actor: str, **detail: Any) -> None:
    """Record an action taken through the API in the audit log, as the console records its own."""
    audit(
        action,
        session=session,
        actor=actor,
        at=current_state().now(),
        target=f"incident {incident_id}",
        address=request.remote_addr or "",
        detail=detail,
        via="api",
    )


def _act(incident_id: int, name: str, action: Callable[..., Any], **kwargs: Any) -> Response:
    now = current_state().now()
    with writing() as session:
        action(incident_id, session=session, now=now, **kwargs)
        inc = svc.get_incident_or_raise(incident_id, session=session)
        _audit(session, name, incident_id, kwargs["by"])
        return jsonify(incident_json(inc))


@bp.post("/incidents/<int:incident_id>/acknowledge")
def acknowledge(incident_id: int) -> Response:
    """Acknowledge: stops escalation."""
    return _act(incident_id, "acknowledge", svc.acknowledge, by=_actor())


@bp.post("/incidents/<int:incident_id>/assign")
def assign(incident_id: int) -> Response:
    """Assign to a person of the inventory."""
    by = _actor()
    to = _text(_body(), "to", required=True)
    people = {m.id for t in current_state().router.inventory.teams.values() for m in t.members}
    if to not in people:
        raise ApiError(400, f"to: {to!r} is not a person in the inventory")
    state = current_state()
    now = state.now()
    with writing() as session:
        inc = svc.assign(incident_id, session=session, to=to, by=by, now=now)
        _audit(session, "assign", incident_id, by, to=to)
        if to != by:  # tell the new assignee, on the channels that carry this priority
            page(state.router, inc, [to], T("assigned by {by}", by=by), session=session, now=now)
        return jsonify(incident_json(inc))


@bp.post("/incidents/<int:incident_id>/resolve")
def resolve(incident_id: int) -> Response:
    """Resolve with a note on what fixed it."""
    by = _actor()
    return _act(incident_id, "resolve", svc.resolve, by=by, note=_prose(_body(), "note", required=False))


@bp.post("/incidents/<int:incident_id>/close")
def close(incident_id: int) -> Response:
    """Close a resolved incident."""
    by = _actor()
    return _act(incident_id, "close", svc.close, by=by, note=_prose(_body(), "note", required=False))


@bp.post("/incidents/<int:incident_id>/notes")
def add_note(incident_id: int) -> tuple[Response, int]:
    """Add a note to the timeline."""
    by = _actor()
    text = _prose(_body(), "text", required=True)
    now = current_state().now()
    with writing() as session:
        event = svc.add_note(incident_id, session=session, by=by, text=text, now=now)
        _audit(session, "note", incident_id, by)
        return jsonify(event_json(event)), 201


@bp.get("/oncall")
def oncall() -> Response:
    """Say who is on call now for every team, and why."""
    _actor()
    router = current_state().router
    now = current_state().now()
    teams = {}
    with current_state().sessions() as session:
        policy = plan(router, session=session)
    for team_id in router.inventory.teams:
        duty = on_call(router.inventory, policy, team_id, now)
        teams[team_id] = {"person": duty.person, "reason": duty.reason}
    return jsonify({"at": now.isoformat(), "teams": teams})
