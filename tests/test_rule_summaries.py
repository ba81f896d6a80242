"""An alert's summary becomes the router's incident title and stays as first seen, so it must not carry a
value that changes while the alert fires ("restarted 37.26s ago"); the value goes in the description."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

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
            used = set(re.findall(r"\{(\w+)\}", rule.get("summary", "")))
            if used & measured:
                frozen.append(f"{path.name}: {rule['name']}: {rule['summary']}")
    assert not frozen, "trap summaries with a measured value (move it into the description):\n" + "\n".join(
        frozen
    )
