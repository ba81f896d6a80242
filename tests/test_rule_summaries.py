"""An alert's summary becomes the router's incident title and stays as first seen, so it must not carry a
value that changes while the alert fires ("restarted 37.26s ago"); the value goes in the description."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hospmon.phi import PhiGuard
from tests.test_rules import ENGLISH

REPO = Path(__file__).resolve().parent.parent
LIVE = re.compile(r"\$value|\.Value|humanize")


def test_no_summary_freezes_a_live_value() -> None:
    frozen = []
    for path in sorted((REPO / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                summary = rule.get("annotations", {}).get("summary", "")
                if "alert" in rule and LIVE.search(summary):
                    frozen.append(f"{path.name}: {rule['alert']}: {summary}")
    assert not frozen, "summaries with a live value (move it into the description):\n" + "\n".join(frozen)


def test_no_trap_rule_summary_freezes_a_measured_value() -> None:
    """A trap's raw varbinds (minutes of battery left, degrees) change while its alert stays open; its name,
    key and label fields and mapped states name what failed and may stand in the summary."""
    frozen = []
    for path in sorted((REPO / "rules" / "events").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            if "trap" not in rule:
                continue
            identity = {"ci", *rule.get("key", [])}
            identity |= {
                f for v in (rule.get("labels") or {}).values() for f in re.findall(r"\{(\w+)\}", str(v))
            }
            measured = {
                name
                for name, field in (rule.get("fields") or {}).items()
                if isinstance(field, dict) and "oid" in field and not {"map", "part"} & set(field)
            } - identity
            said = rule.get("summary", "") + rule.get("summary_zh", "")
            used = set(re.findall(r"\{(\w+)\}", said))
            if used & measured:
                frozen.append(f"{path.name}: {rule['name']}: {rule['summary']}")
    assert not frozen, "trap summaries with a measured value (move it into the description):\n" + "\n".join(
        frozen
    )


def test_every_shipped_event_rule_says_its_summary_in_chinese() -> None:
    """A trap or syslog alert titles a Chinese page too: its `summary_zh` names the same fields, has no
    English sentence and passes the PHI guard whole (receiver and router read annotations as values)."""
    guard, problems = PhiGuard(), []
    for path in sorted((REPO / "rules" / "events").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            zh, fields = rule.get("summary_zh", ""), re.compile(r"\{\w+\}")
            words = fields.sub(" ", zh)
            if not zh or ENGLISH.search(words) or guard.find(fields.sub("x", zh)):
                problems.append(f"{path.name}: {rule['name']}: {zh!r}")
            elif set(fields.findall(zh)) != set(fields.findall(rule["summary"])):
                problems.append(f"{path.name}: {rule['name']}: summary_zh names other fields than summary")
    assert not problems, "event rules without a Chinese summary:\n" + "\n".join(problems)
