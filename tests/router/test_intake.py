"""Webhook intake on SQLite and PostgreSQL: auth, limits, idempotency, ordering, grouping."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alertrouter import incidents as svc
from alertrouter.models import Alert, Delivery, Event, Incident
from alertrouter.notify.lang import say
from tests.router.conftest import API_TOKEN, auth, js
from tests.router.payloads import alert, iso, real, webhook

T0 = dt.datetime(2026, 10, 1, 19, 10, tzinfo=dt.UTC)  # 03:10 on National Day in Shanghai
URL = "/webhook/alertmanager"


def post(client: FlaskClient, payload: Any, **headers: str) -> Any:
    return client.post(URL, json=payload, headers={**auth(), **headers})


def count(app: Flask, model: Any) -> int:
    with app.extensions["hospmon_router"].sessions() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def probe(ci: str, starts: dt.datetime, **kw: Any) -> dict[str, Any]:
    """Return a CIProbeFailed alert: of the policy's reachability class, so it groups under a cause."""
    return alert(ci, starts, name="CIProbeFailed", **kw)


def incidents(app: Flask) -> list[Incident]:
    with app.extensions["hospmon_router"].sessions() as session:
        return list(session.execute(select(Incident).order_by(Incident.id)).scalars())


def test_real_payload_opens_one_incident_with_priority_owner_and_explanation(
    client: FlaskClient, app: Flask
) -> None:
    app.extensions["hospmon_router"].now = lambda: T0 + dt.timedelta(minutes=1)  # whoever is on call then
    resp = post(client, real("firing-core-sw-1.json"))
    assert resp.status_code == 200, resp.json
    assert js(resp)["alerts"] == {"new": 2}
    inc, web = incidents(app)  # the core switch, and the HIS web service behind it, grouped under it
    assert web.ci == "his-web" and web.parent_id == inc.id and web.next_escalation_at is None
    assert inc.status == "triggered" and inc.priority == "P1" and inc.ci == "core-sw-1"
    assert inc.explanation.startswith(
        "P1: Emergency Department depends on core-sw-1 (core-sw-1 is shared infrastructure of Hospital"
        " Network); severity critical"
    )
    assert "03:10 on a holiday (National Day)" in inc.explanation
    assert inc.team == "network" and inc.assignee == "wang.lei"
    assert "on call wang.lei (weekly rotation" in inc.owner_explanation
    assert [d.department for d in inc.departments][:2] == ["ed", "icu"]
    with app.extensions["hospmon_router"].sessions() as session:
        texts = [e.text for e in session.execute(select(Event).order_by(Event.id)).scalars()]
    assert any("caused by core-sw-1 (incident #1): not paged while #1 is open" in t for t in texts)


def test_same_payload_five_times_is_one_incident(client: FlaskClient, app: Flask) -> None:
    payload = real("firing-core-sw-1.json")
    for _ in range(5):
        assert post(client, payload).status_code == 200
    assert count(app, Incident) == 2 and count(app, Alert) == 2
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.execute(select(Alert.receive_count)).scalars().all() == [5, 5]


def test_ha_pair_duplicates_and_repeat_intervals_update(client: FlaskClient, app: Flask) -> None:
    a = alert("his-db", T0)
    twin = {**a, "endsAt": "2026-10-01T19:20:00Z"}  # the other Alertmanager's copy, another endsAt
    assert js(post(client, webhook(a)))["alerts"] == {"new": 1}
    assert js(post(client, webhook(twin)))["alerts"] == {"repeat": 1}
    assert count(app, Incident) == 1


def test_resolve_closes_the_incident_and_stale_firing_does_not_reopen(
    client: FlaskClient, app: Flask
) -> None:
    a = alert("his-db", T0)
    post(client, webhook(a))
    done = alert("his-db", T0, status="resolved")
    assert js(post(client, webhook(done)))["alerts"] == {"resolved": 1}
    assert js(post(client, webhook(a)))["alerts"] == {"stale": 1}
    [inc] = incidents(app)
    assert inc.status == "resolved" and inc.open_key is None and inc.resolved_at is not None


def test_resolve_before_firing_ends_resolved(client: FlaskClient, app: Flask) -> None:
    done = alert("lis-db", T0, status="resolved")
    assert js(post(client, webhook(done)))["alerts"] == {"new": 1}
    assert js(post(client, webhook(alert("lis-db", T0))))["alerts"] == {"stale": 1}
    [inc] = incidents(app)
    assert inc.status == "resolved" and inc.next_escalation_at is None


def test_refiring_after_resolve_opens_a_new_incident(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(alert("his-db", T0)))
    post(client, webhook(alert("his-db", T0, status="resolved")))
    post(client, webhook(alert("his-db", T0 + dt.timedelta(hours=1))))
    assert [i.status for i in incidents(app)] == ["resolved", "triggered"]


def test_dependent_incident_opened_first_joins_the_root(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(probe("his-web", T0)))
    post(client, webhook(probe("core-sw-1", T0 + dt.timedelta(seconds=30))))
    child, root = incidents(app)
    assert child.parent_id == root.id and child.next_escalation_at is None
    post(client, webhook(probe("fw-intranet-1", T0 + dt.timedelta(seconds=40))))
    *_, firewall = incidents(app)  # its own incident, on its own CI, grouped under the root
    assert firewall.ci == "fw-intranet-1" and firewall.parent_id == root.id
    assert firewall.next_escalation_at is None
    with app.extensions["hospmon_router"].sessions() as session:
        alert_row = session.execute(select(Alert).where(Alert.ci == "fw-intranet-1")).scalar_one()
    assert alert_row.incident_id == firewall.id


def test_the_timeline_names_incidents_opened_in_the_same_delivery_by_their_numbers(
    client: FlaskClient, app: Flask
) -> None:
    """A delivery's new incidents are written together: every entry still names real incident numbers."""
    post(client, webhook(probe("his-web", T0)))
    # The core switch and the firewall behind it fail in one delivery: the firewall's incident is grouped
    # under the core switch's, opened in the same delivery; the HIS web incident already open joins it.
    post(client, webhook(probe("fw-intranet-1", T0 + dt.timedelta(seconds=40)), probe("core-sw-1", T0)))
    web, root, firewall = incidents(app)
    assert (root.ci, firewall.ci) == ("core-sw-1", "fw-intranet-1")
    assert web.parent_id == root.id and firewall.parent_id == root.id
    with app.extensions["hospmon_router"].sessions() as session:
        events = list(session.execute(select(Event).order_by(Event.id)).scalars())
    ids = {web.id, root.id, firewall.id}
    assert {e.incident_id for e in events} == ids
    named = {int(n) for e in events for n in re.findall(r"#(\d+)", e.text)}
    assert named <= ids and root.id in named
    assert all(e.data[k] in ids for e in events for k in ("parent_id", "child_id") if k in e.data)
    texts = [e.text for e in events]
    assert f"caused by core-sw-1: joined incident #{root.id}" in texts
    assert any(f"caused by core-sw-1 (incident #{root.id}): not paged while #{root.id}" in t for t in texts)
    assert f"incident #{firewall.id} on fw-intranet-1 is caused by core-sw-1" in texts


def test_an_alert_no_failure_upstream_explains_is_never_grouped(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(probe("core-sw-2", T0)))
    hot = alert("nas-pacs-1", T0 + dt.timedelta(minutes=5), name="TemperatureHigh", severity="warning")
    probed = probe("nas-pacs-1", T0 + dt.timedelta(minutes=6))
    post(client, webhook(hot, probed))
    root, temperature, unreachable = incidents(app)
    assert temperature.alertname == "TemperatureHigh" and temperature.parent_id is None
    assert temperature.team == "medtech" and temperature.next_escalation_at is not None  # paged
    assert unreachable.alertname == "CIProbeFailed" and unreachable.parent_id == root.id


def test_priority_rises_when_a_worse_alert_joins(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(probe("ins-fep", T0, severity="warning")))
    assert incidents(app)[0].priority == "P4"
    post(client, webhook(probe("ins-fep", T0 + dt.timedelta(hours=6), extra={"module": "insurance"})))
    [inc] = incidents(app)
    assert inc.priority == "P3", inc.explanation  # critical, but billing is closed on National Day
    with app.extensions["hospmon_router"].sessions() as session:
        kinds = session.execute(select(Event.kind).where(Event.incident_id == inc.id)).scalars().all()
    assert "priority_changed" in kinds


def test_unknown_ci_and_missing_ci(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(alert("printer-7", T0), alert(None, T0, name="Watchdog", severity="info")))
    a, b = incidents(app)
    assert {a.priority, b.priority} <= {"P3", "P4"}
    assert a.team == "infra" and "fallback_team" in a.owner_explanation


def test_auth_is_required(client: FlaskClient, app: Flask) -> None:
    payload = real("firing-core-sw-1.json")
    assert client.post(URL, json=payload).status_code == 401
    resp = client.post(URL, json=payload, headers=auth("wrong"))
    assert resp.status_code == 401 and js(resp)["error"]["reason"] == "missing or wrong credentials"
    assert client.post(URL, json=payload, headers=auth(API_TOKEN)).status_code == 401
    assert count(app, Alert) == 0


def test_invalid_payload_is_400_and_writes_nothing(client: FlaskClient, app: Flask) -> None:
    payload = real("firing-core-sw-1.json")
    payload["alerts"][1]["startsAt"] = "soon"
    resp = post(client, payload, **{"X-Request-Id": "abc-123"})
    assert resp.status_code == 400
    assert js(resp) == {
        "error": {
            "status": 400,
            "reason": "alerts[1].startsAt: 'soon' is not an RFC 3339 time",
            "request_id": "abc-123",
        }
    }
    assert resp.headers["X-Request-Id"] == "abc-123"
    resp = client.post(URL, data=b"{not json", headers={**auth(), "Content-Type": "application/json"})
    assert resp.status_code == 400 and "not JSON" in js(resp)["error"]["reason"]
    assert count(app, Alert) == 0 and count(app, Incident) == 0


def test_body_limit_is_413(client: FlaskClient, app: Flask) -> None:
    big = webhook(*[alert(f"x-{i}", T0, extra={"pad": "x" * 5000}) for i in range(1000)])
    resp = post(client, big)
    assert resp.status_code == 413 and js(resp)["error"]["status"] == 413
    assert count(app, Alert) == 0


def test_truncated_alerts_are_recorded_for_fetching(client: FlaskClient, app: Flask) -> None:
    assert post(client, webhook(alert("his-db", T0), truncated=3)).status_code == 200
    with app.extensions["hospmon_router"].sessions() as session:
        [d] = session.execute(select(Delivery)).scalars().all()
    assert d.truncated == 3 and d.alerts == 1


def test_copies_with_other_starts_are_one_alert_until_it_resolves(client: FlaskClient, app: Flask) -> None:
    # An HA pair's replicas fire one alert seconds apart, the later start first; one restarts hours later.
    outcomes = [
        js(post(client, webhook(alert("his-db", T0 + dt.timedelta(seconds=s)))))["alerts"]
        for s in (5, 0, 2 * 3600)
    ]
    assert outcomes == [{"new": 1}, {"repeat": 1}, {"repeat": 1}]
    # The earlier copy moved the alert to its start, once: re-sends of either copy change nothing more.
    for s in (0, 5):
        assert js(post(client, webhook(alert("his-db", T0 + dt.timedelta(seconds=s)))))["alerts"] == {
            "repeat": 1
        }
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.execute(select(Alert.status, Alert.starts_at, Alert.receive_count)).all() == [
            ("firing", T0, 5)
        ]
        moved = session.execute(select(Event.text).where(Event.text.contains("before the copy"))).scalars()
        assert moved.all() == [
            "TargetDown on his-db started at 2026-10-02 03:10:00, before the copy received first"
            " (03:10:05): the other Prometheus of the pair fired it first"
        ]
    # The resolve carries Alertmanager's start (the earliest); the other replica's, its own: both end it.
    done = alert("his-db", T0, status="resolved", ends=T0 + dt.timedelta(hours=3))
    assert js(post(client, webhook(done)))["alerts"] == {"resolved": 1}
    assert js(post(client, webhook({**done, "startsAt": iso(T0 + dt.timedelta(seconds=5))})))["alerts"] == {
        "repeat": 1
    }
    [inc] = incidents(app)
    assert inc.status == "resolved"
    # A late firing copy of the ended occurrence is stale; a start after its end is a new occurrence.
    assert js(post(client, webhook(alert("his-db", T0 + dt.timedelta(seconds=5)))))["alerts"] == {"stale": 1}
    again = alert("his-db", T0 + dt.timedelta(hours=4))
    assert js(post(client, webhook(again)))["alerts"] == {"new": 1}
    assert [i.status for i in incidents(app)] == ["resolved", "triggered"]


def test_a_late_copy_of_an_occurrence_resolved_by_hand_never_moves_the_new_one(
    client: FlaskClient, app: Flask
) -> None:
    # 03:10 the ED switch fails; Zhao Min resolves it by hand at 03:30 while it still fires; at 04:10 it
    # fails anew (a new incident). Then the other Prometheus's copy of the 03:10 failure arrives late.
    state = app.extensions["hospmon_router"]
    post(client, webhook(probe("acc-sw-ed-1f", T0)))
    with state.sessions() as session, session.begin():
        svc.resolve(1, session=session, by="zhao.min", note="rebooted", now=T0 + dt.timedelta(minutes=20))
    post(client, webhook(probe("acc-sw-ed-1f", T0 + dt.timedelta(hours=1))))
    post(client, webhook(probe("acc-sw-ed-1f", T0 + dt.timedelta(seconds=5))))
    with state.sessions() as session:
        rows = session.execute(select(Alert.incident_id, Alert.starts_at).order_by(Alert.id)).all()
    assert rows == [(1, T0), (2, T0 + dt.timedelta(hours=1))]


def test_a_resolve_ends_every_copy_two_replicas_stored_at_once(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(alert("his-db", T0)))
    with app.extensions["hospmon_router"].sessions() as session, session.begin():
        # Two router replicas stored the pair's copies in the same moment, neither seeing the other's.
        row = session.execute(select(Alert)).scalar_one()
        twin = {c.name: getattr(row, c.name) for c in Alert.__table__.columns if c.name != "id"}
        session.add(Alert(**{**twin, "starts_at": T0 + dt.timedelta(seconds=7)}))
    done = alert("his-db", T0 + dt.timedelta(seconds=7), status="resolved", ends=T0 + dt.timedelta(hours=1))
    assert js(post(client, webhook(done)))["alerts"] == {"resolved": 1}
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.execute(select(Alert.status)).scalars().all() == ["resolved", "resolved"]
        events = session.execute(select(Event.text, Event.data).where(Event.kind == "alert_resolved")).all()
    assert any("resolved with its copy that started" in e.text for e in events)
    # The night shift reads the timeline in Chinese: the copy's note is said in it too.
    inventory = app.extensions["hospmon_router"].router.inventory
    zh = [say(e.text, (e.data or {}).get("msg"), "zh", inventory) for e in events]
    assert any("已随其 2026-" in t and "开始的副本一并解决" in t for t in zh), zh
    assert incidents(app)[0].status == "resolved"


def test_a_warranty_incident_never_swallows_an_outage(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(alert("core-sw-1", T0, name="CIWarrantyExpired")))
    post(client, webhook(probe("core-sw-1", T0), alert("his-web", T0, name="ClinicalWebDown")))
    warranty, outage, web = incidents(app)
    assert warranty.alertname == "CIWarrantyExpired" and warranty.priority == "P4"
    assert outage.alertname == "CIProbeFailed" and outage.priority == "P1"
    assert web.parent_id == outage.id and warranty.parent_id is None


def test_children_page_again_when_the_root_resolves_first(client: FlaskClient, app: Flask) -> None:
    post(client, webhook(probe("his-web", T0)))
    post(client, webhook(probe("core-sw-1", T0 + dt.timedelta(seconds=30))))
    child, root = incidents(app)
    assert child.parent_id == root.id and child.next_escalation_at is None
    post(client, webhook(probe("core-sw-1", T0 + dt.timedelta(seconds=30), status="resolved")))
    child, root = incidents(app)
    assert root.status == "resolved" and child.status == "triggered"
    assert child.next_escalation_at is not None  # still failing: the worker pages its owner again
    with app.extensions["hospmon_router"].sessions() as session:
        kinds = session.execute(select(Event.kind).where(Event.incident_id == child.id)).scalars().all()
    assert "released" in kinds


def test_a_firing_alert_reopens_an_incident_resolved_by_hand(client: FlaskClient, app: Flask) -> None:
    state = app.extensions["hospmon_router"]
    state.now = lambda: T0
    post(client, webhook(probe("acc-sw-ed-1f", T0)))
    [inc] = incidents(app)
    with state.sessions() as session, session.begin():
        later = T0 + dt.timedelta(minutes=20)
        svc.resolve(inc.id, session=session, by="zhao.min", note="rebooted", now=later)
    # Meanwhile a temperature alert on the same switch opened its own incident: it does not hold the key.
    post(client, webhook(alert("acc-sw-ed-1f", T0, name="TemperatureHigh", severity="warning")))
    state.now = lambda: T0 + dt.timedelta(minutes=25)
    assert js(post(client, webhook(probe("acc-sw-ed-1f", T0))))["alerts"] == {"repeat": 1}
    again, _ = incidents(app)
    assert again.id == inc.id and again.status == "triggered" and again.resolved_at is None
    assert again.open_key == "ci:acc-sw-ed-1f" and again.escalation_step == 0
    assert again.next_escalation_at == T0 + dt.timedelta(minutes=25)  # the worker pages from step 1 now
    with state.sessions() as session:
        texts = [e.text for e in svc.timeline_of(inc.id, session=session)]
    assert "resolved by zhao.min: rebooted; still firing: CIProbeFailed on acc-sw-ed-1f" in texts
    assert texts[-1] == (
        "reopened by router: CIProbeFailed on acc-sw-ed-1f still fires after the incident was ended"
    )
    # Another repeat changes nothing more; the resolve of the alert ends it for good.
    assert js(post(client, webhook(probe("acc-sw-ed-1f", T0))))["alerts"] == {"repeat": 1}
    done = probe("acc-sw-ed-1f", T0, status="resolved")
    assert js(post(client, webhook(done)))["alerts"] == {"resolved": 1}
    assert incidents(app)[0].status == "resolved"


def test_a_reopened_incident_leaves_the_key_to_a_newer_one(client: FlaskClient, app: Flask) -> None:
    state = app.extensions["hospmon_router"]
    state.now = lambda: T0 + dt.timedelta(minutes=40)
    post(client, webhook(probe("acc-sw-ed-1f", T0)))
    with state.sessions() as session, session.begin():
        svc.resolve(1, session=session, by="zhao.min", note="", now=T0 + dt.timedelta(minutes=20))
        svc.close(1, session=session, by="zhao.min", note="", now=T0 + dt.timedelta(minutes=21))
    # A new failure of the switch (another module) opens a new incident; then the old alert is re-sent.
    post(client, webhook(probe("acc-sw-ed-1f", T0 + dt.timedelta(minutes=30), extra={"module": "if_mib"})))
    post(client, webhook(probe("acc-sw-ed-1f", T0)))
    old, new = incidents(app)
    assert old.status == "triggered" and old.closed_at is None and old.open_key is None
    assert new.open_key == "ci:acc-sw-ed-1f"
    with state.sessions() as session:
        last = svc.timeline_of(old.id, session=session)[-1].text
    assert last.endswith(f"; incident #{new.id} holds ci:acc-sw-ed-1f now, new alerts go there")
