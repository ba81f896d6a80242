"""Release records: a version change seen on a CI links to the release that planned it, or pages its team.

Saturday night, 5 December 2026: the applications team upgrades the HIS database from MariaDB 10.11.5 to
10.11.6 in the 22:00-24:00 window. At 23:10 Prometheus sees the new version (VersionChanged).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.console.conftest import incident_id, seed
from tests.router.conftest import API_TOKEN, auth
from tests.router.payloads import alert

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SEEN = dt.datetime(2026, 12, 5, 23, 10, tzinfo=SHANGHAI)


def version_changed(ci: str, new: str, old: str, **kw: Any) -> dict[str, Any]:
    """The VersionChanged alert of rules/releases.yml, as Alertmanager sends it."""
    found = alert(ci, kw.pop("starts", SEEN), name="VersionChanged", severity="info",
                  extra={"component": "database", "version": new, "previous_version": old}, **kw)  # fmt: skip
    found["annotations"] = {"summary": f"database of {ci} changed version: {old} -> {new}"}
    return found


def record_release(client: FlaskClient, token: str, version_to: str, **fields: str) -> None:
    form = {
        "csrf": token, "kind": "release", "title": "HIS database minor upgrade", "cis": "his-db",
        "system": "his-db", "version_from": "10.11.5-MariaDB", "version_to": version_to,
        "starts": "2026-12-05T22:00", "ends": "2026-12-06T00:00", "recurrence": "none", **fields,
    }  # fmt: skip
    resp = client.post("/console/changes", data=form)
    assert resp.status_code == 303, resp.text


def incidents(client: FlaskClient, ci: str) -> list[dict[str, Any]]:
    found = client.get(
        f"/api/v1/incidents?ci={ci}&status=triggered,acknowledged,resolved", headers=auth(API_TOKEN)
    )
    result: list[dict[str, Any]] = found.json["incidents"]
    return result


def test_unrecorded_version_change_opens_a_low_priority_incident_for_the_owner(
    client: FlaskClient, as_user: Callable[[str], str]
) -> None:
    as_user("wang.lei")
    seed(client, version_changed("his-db", "10.11.6-MariaDB", "10.11.5-MariaDB"))
    (inc,) = incidents(client, "his-db")
    # The HIS database serves the emergency department: an outage would be P1; this is a paperwork gap.
    assert inc["priority"] == "P4" and inc["team"] == "apps" and inc["status"] == "triggered"
    assert inc["title"] == (
        "VersionChanged on his-db: version changed without a release record: "
        "database of his-db changed version: 10.11.5-MariaDB -> 10.11.6-MariaDB"
    )


def test_recorded_release_links_the_change_and_opens_nothing(
    client: FlaskClient, as_user: Callable[[str], str]
) -> None:
    token = as_user("wang.lei")
    record_release(client, token, "10.11.6-MariaDB")
    changed = version_changed("his-db", "10.11.6-MariaDB", "10.11.5-MariaDB")
    seed(client, changed)
    seed(client, changed)  # Alertmanager repeats it
    seed(client, version_changed("his-db", "10.11.6-MariaDB", "10.11.5-MariaDB", status="resolved"))
    assert incidents(client, "his-db") == []
    page = re.sub(r"<[^>]+>", "", client.get("/console/changes").text)  # versions are marked translate="no"
    assert "Seen on his-db 2026-12-05 23:10: 10.11.5-MariaDB → 10.11.6-MariaDB" in page
    # In Chinese too.
    client.post("/console/settings", data={"csrf": token, "lang": "zh"})
    assert "已观测到： his-db 2026-12-05 23:10" in client.get("/console/changes").text


def test_a_release_of_another_version_or_outside_its_window_explains_nothing(
    client: FlaskClient, as_user: Callable[[str], str]
) -> None:
    token = as_user("wang.lei")
    record_release(client, token, "10.11.6-MariaDB")
    # The DBA installed 10.11.7 instead of the 10.11.6 that was agreed.
    seed(client, version_changed("his-db", "10.11.7-MariaDB", "10.11.5-MariaDB"))
    # And the LIS database changed on Monday morning, outside any window.
    monday = dt.datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI)
    seed(client, version_changed("lis-db", "10.11.6-MariaDB", "10.11.5-MariaDB", starts=monday))
    assert [i["priority"] for i in incidents(client, "his-db")] == ["P4"]
    assert [i["team"] for i in incidents(client, "lis-db")] == ["medtech"]


def test_release_recorded_afterwards_resolves_the_open_incident(
    client: FlaskClient, as_user: Callable[[str], str]
) -> None:
    token = as_user("wang.lei")
    seed(client, version_changed("his-db", "10.11.6-MariaDB", "10.11.5-MariaDB"))
    opened = incident_id(client, "his-db")
    # Monday: the team writes up Saturday's upgrade, by service rather than by CI.
    record_release(client, token, "10.11.6", system="his")
    (inc,) = incidents(client, "his-db")
    assert inc["id"] == opened and inc["status"] == "resolved"
    detail = client.get(f"/api/v1/incidents/{opened}", headers=auth(API_TOKEN)).json
    assert detail["timeline"][-1]["text"].startswith("resolved by wang.lei: explained by release record 1")
    assert "Seen on his-db" in client.get("/console/changes").text


def test_release_form_refuses_what_cannot_be_linked(
    client: FlaskClient, as_user: Callable[[str], str]
) -> None:
    token = as_user("wang.lei")
    base = {"csrf": token, "kind": "release", "title": "x", "cis": "his-db", "starts": "2026-12-05T22:00",
            "ends": "2026-12-06T00:00", "recurrence": "none"}  # fmt: skip
    assert client.post("/console/changes", data={**base, "version_to": ""}).status_code == 400
    assert (
        client.post("/console/changes", data={**base, "version_to": "2", "system": "nope"}).status_code == 400
    )
    weekly = {**base, "version_to": "2", "recurrence": "weekly"}
    assert client.post("/console/changes", data=weekly).status_code == 400
    assert client.post("/console/changes", data={**base, "kind": "upgrade"}).status_code == 400
    assert client.get("/console/changes").text.count("<tr>") == 1  # nothing was recorded
