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
