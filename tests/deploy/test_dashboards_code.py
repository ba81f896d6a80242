"""dashboards/src/ generates the dashboards checked into git, and what it generates is sound."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "dashboards" / "src" / "generate.py"
GENERATED = ("status_board.json", "incidents.json", "inventory.json", "middleware.json", "estate.json")


def test_checked_in_json_equals_the_generated_json(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(GENERATED)
    for name in GENERATED:
        assert (REPO / "dashboards" / name).read_text() == (tmp_path / name).read_text(), (
            f"dashboards/{name} differs from dashboards/src/: run `make dashboards` and commit"
        )
    # --check notices an edited file.
    edited = json.loads((tmp_path / "inventory.json").read_text())
    edited["title"] = "edited by hand"
    (tmp_path / "inventory.json").write_text(json.dumps(edited))
    check = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert check.returncode == 1 and "inventory.json" in check.stderr


def test_generated_dashboards_are_well_formed() -> None:
    uids = set()
    for name in GENERATED:
        board = json.loads((REPO / "dashboards" / name).read_text())
        uids.add(board["uid"])
        assert "hospmon" in board["tags"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{name}: {panel['title']} overflows the grid"
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"])
            assert panel.get("description"), f"{name}: {panel['title']} has no description"
    assert len(uids) == len(GENERATED)
