"""``/api/v1/incidents/{id}/snooze|reopen|reassign|merge|split``: the incident actions beyond acknowledge and
resolve, as the console offers them; each audited with the token's actor."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from alertrouter import actions
from alertrouter.api.serialize import incident_json
from alertrouter.api.views import _actor, _audit, _body, _prose, _text, bp
from alertrouter.errors import ApiError
from alertrouter.state import current_state, writing


def _int(data: dict[str, Any], key: str, *, required: bool) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{key}: expected an integer")
    return value


def _run(incident_id: int, name: str, by: str, work: Any, **detail: Any) -> Response:
    state = current_state()
    with writing() as session:
        inc = work(session, state.now())
        _audit(session, name, incident_id, by, **detail)
        return jsonify(incident_json(inc))


@bp.post("/incidents/<int:incident_id>/snooze")
def snooze(incident_id: int) -> Response:
    """Quiet an open incident for `minutes`; it pages again from step 1 unless resolved by then."""
    by = _actor()
    minutes = _int(_body(), "minutes", required=True)
    assert minutes is not None
    return _run(
        incident_id, "snooze", by,
        lambda s, now: actions.snooze(incident_id, session=s, by=by, minutes=minutes, now=now),
        minutes=minutes,
    )  # fmt: skip


@bp.post("/incidents/<int:incident_id>/reopen")
def reopen(incident_id: int) -> Response:
    """Reopen a resolved or closed incident, with a note saying why."""
    by = _actor()
    why = _prose(_body(), "note", required=False)
    router = current_state().router
    return _run(
        incident_id, "reopen", by,
        lambda s, now: actions.reopen_by(router, incident_id, session=s, by=by, why=why, now=now),
    )  # fmt: skip


@bp.post("/incidents/<int:incident_id>/reassign")
def reassign(incident_id: int) -> Response:
    """Hand an open incident to a team (its on-call person) or a person of it, and page them."""
    by = _actor()
    data = _body()
    team = _text(data, "team", required=False) or None
    person = _text(data, "to", required=False) or None
    router = current_state().router

    def work(s: Any, now: Any) -> Any:
        return actions.reassign(router, incident_id, session=s, by=by, team=team, person=person, now=now)

    return _run(incident_id, "reassign", by, work, team=team, to=person)


@bp.post("/incidents/<int:incident_id>/merge")
def merge(incident_id: int) -> Response:
    """File this incident under another open one (`into`) as caused by it."""
    by = _actor()
    into = _int(_body(), "into", required=True)
    assert into is not None
    return _run(
        incident_id, "merge", by,
        lambda s, now: actions.merge(incident_id, session=s, by=by, into=into, now=now),
        into=into,
    )  # fmt: skip


@bp.post("/incidents/<int:incident_id>/split")
def split(incident_id: int) -> Response:
    """Say "not caused by": free it from its cause, or move `alert_id` out to an incident of its own."""
    by = _actor()
    alert_id = _int(_body(), "alert_id", required=False)
    router = current_state().router
    return _run(
        incident_id, "split", by,
        lambda s, now: actions.split(router, incident_id, session=s, by=by, alert_id=alert_id, now=now),
        alert_id=alert_id,
    )  # fmt: skip
