"""The webhook parser: real v4 payloads in, alerts out; anything invalid refused with the reason."""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import pytest

from alertrouter.intake.parser import PayloadError, parse_api_alert, parse_time, parse_webhook
from tests.router.payloads import real


def test_real_payload_parses_with_nanoseconds_and_zero_end() -> None:
    msg = parse_webhook(real("firing-core-sw-1.json"))
    assert msg.receiver == "hospmon-router"
    assert msg.truncated_alerts == 0
    assert msg.group_labels == {"alertname": "CIProbeFailed"}
    first, second = msg.alerts
    assert first.fingerprint == "5b8e3a2f0c1d4e6a"
    assert first.ci == "core-sw-1" and first.severity == "critical" and first.alertname == "CIProbeFailed"
    assert first.starts_at == dt.datetime(2026, 10, 1, 19, 10, 5, 123456, tzinfo=dt.UTC)
    assert first.ends_at is None
    assert second.starts_at == dt.datetime(2026, 10, 1, 19, 10, 35, 500000, tzinfo=dt.UTC)


def test_unknown_fields_are_ignored() -> None:
    payload = real("firing-core-sw-1.json")
    payload["somethingNew"] = {"x": 1}
    payload["alerts"][0]["newField"] = [1, 2]
    assert len(parse_webhook(payload).alerts) == 2


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(real("firing-core-sw-1.json"))
    node = payload
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (["version"], "3", 'version: expected "4"'),
        (["alerts"], KeyError, "alerts: expected a list"),
        (["alerts", 1, "status"], "pending", "alerts[1].status: expected firing or resolved"),
        (["alerts", 0, "startsAt"], "yesterday", "alerts[0].startsAt: 'yesterday' is not an RFC 3339 time"),
        (["alerts", 0, "startsAt"], "2026-10-01T19:10:05", "has no time zone"),
        (["alerts", 0, "fingerprint"], "", "alerts[0].fingerprint"),
        (["alerts", 0, "labels", "alertname"], KeyError, "alerts[0].labels.alertname: missing"),
        (["alerts", 0, "labels", "ci"], 7, "alerts[0].labels.ci: expected a string"),
        (["truncatedAlerts"], -1, "truncatedAlerts"),
    ],
)
def test_invalid_payload_names_the_place(path: list[Any], value: Any, reason: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(reason)):
        parse_webhook(_broken(path, value))


def test_resolved_without_end_is_refused() -> None:
    payload = _broken(["alerts", 0, "status"], "resolved")
    with pytest.raises(PayloadError, match=r"alerts\[0\].endsAt"):
        parse_webhook(payload)


def test_not_an_object() -> None:
    with pytest.raises(PayloadError, match="body: expected a JSON object"):
        parse_webhook([1, 2])


def test_zero_time_means_unset() -> None:
    assert parse_time("0001-01-01T00:00:00Z", "x") is None
    assert parse_time("2026-11-28T08:00:00+08:00", "x") == dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)


def test_api_v2_alert_is_shaped_like_a_webhook_alert() -> None:
    raw = {
        "labels": {"alertname": "TargetDown", "ci": "his-db", "severity": "critical"},
        "annotations": {},
        "startsAt": "2026-11-28T01:00:00.000Z",
        "endsAt": "2999-01-01T00:00:00Z",
        "fingerprint": "0011223344556677",
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        "receivers": [{"name": "hospmon-router"}],
        "updatedAt": "2026-11-28T01:00:01Z",
    }
    parsed = parse_api_alert(raw, "alerts[0]")
    assert parsed.status == "firing" and parsed.ci == "his-db"


def test_payloads_recorded_from_alertmanager_0_25() -> None:
    firing = parse_webhook(real("am-0.25-firing.json"))
    resolved = parse_webhook(real("am-0.25-resolved.json"))
    [up] = firing.alerts
    [down] = resolved.alerts
    assert up.status == "firing" and up.ends_at is None and up.ci in ("his-db", "lis-db")
    assert firing.group_labels == {"alertname": "TargetDown", "ci": up.ci}
    assert down.status == "resolved" and down.ends_at is not None and down.ends_at > down.starts_at
    assert resolved.group_key.startswith('{}:{alertname="TargetDown"')
