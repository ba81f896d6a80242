"""Canary patient, event layer: a careless site rule captures who failed to log in to the HIS, and a line
names the canary patient in every form. No alert, label or annotation the receiver queues for Alertmanager
holds her; with the guard switched off (a test-only setting) the same lines leak her, so the test can fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from exporters.events.config import load_config
from exporters.events.receiver import Receiver
from hospmon import phi
from hospmon.config import ConfigError
from tests.canary import CANARY, leaks
from tests.events.conftest import REPO, receiver_config
from tests.events.test_timing import flush

CARELESS = """\
rules:
  - name: his_login_failed
    syslog: 'login failed for (?P<who>\\S+) at (?P<where>\\S+)'
    app: his-app
    alert: HISLoginFailures
    severity: warning
    key: [where]
    labels: {user: "{who}", terminal: "{where}"}
    summary: "Login failed for {who} at {where} on {ci}"
    description: "{ci} logged a failed login of {who}."
    expire_seconds: 600
"""
HIS_SERVER = "127.0.0.9"  # db-his-node1 in the test sources


def _receiver(tmp_path: Path, rules: str) -> Receiver:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "his.yml").write_text(rules)
    config = receiver_config(tmp_path, 9, rules=[str(REPO / "rules" / "events"), str(tmp_path / "site")])
    (tmp_path / "events.yml").write_text(yaml.safe_dump(config))
    loaded = load_config(tmp_path / "events.yml")
    return Receiver(lambda: loaded, clock=lambda: 1_800_000_000.0)


def _queued(receiver: Receiver) -> str:
    for i, form in enumerate([CANARY.name, CANARY.mrn, CANARY.phone, CANARY.name_dicom, CANARY.resident_id]):
        line = f"<4>Jan 20 03:12:45 db-his-node1 his-app[77]: login failed for {form} at WS-OPD-{i}"
        receiver.on_syslog(line.encode(), HIS_SERVER)
    posts = flush(receiver)
    assert len(posts) == 5
    return json.dumps([p.to_json() for p in posts], ensure_ascii=False)


def test_the_canary_named_in_syslog_never_reaches_an_alert(tmp_path: Path) -> None:
    receiver = _receiver(tmp_path, CARELESS)
    queued = _queued(receiver)
    assert leaks(queued) == []
    assert '"user": "[redacted]"' in queued and '"terminal": "WS-OPD-0"' in queued
    assert "Login failed for [redacted] at WS-OPD-0 on db-his-node1" in queued
    tally = receiver.current().guard.tally
    assert tally.get("han_name") >= 1 and tally.get("record_number") >= 1 and tally.get("mobile_phone") >= 1


def test_without_the_guard_the_same_lines_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phi, "_TEST_ONLY_DISABLED", True)
    assert CANARY.name in leaks(_queued(_receiver(tmp_path, CARELESS)))


def test_a_rule_may_not_name_a_label_after_personal_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _receiver(tmp_path, CARELESS.replace("labels: {user:", "labels: {patient_name:"))
    assert "rules[his_login_failed]: labels.patient_name: label patient_name names personal data" in str(
        raised.value
    )
