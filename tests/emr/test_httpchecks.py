"""The dotted-path JSON checks of the HTTP probe, on literal documents."""

from __future__ import annotations

from typing import Any

import pytest

from exporters.core.httpchecks import json_check_holds
from exporters.core.httpconfig import JsonCheck
from hospmon.config import validate

DOC = {"status": "UP", "ok": True, "entry": [{"total": 3}, {"total": 0.5}], "db": {"connections": 12}}


@pytest.mark.parametrize(
    ("path", "op", "value", "holds"),
    [
        ("status", "eq", "UP", True),
        ("status", "ne", "UP", False),
        ("entry[0].total", "ge", 3, True),
        ("entry.1.total", "lt", 1, True),
        ("entry.-1.total", "gt", 1, False),
        ("entry[5].total", "exists", None, False),
        ("db.connections", "exists", None, True),
        ("db.connections", "eq", 12, True),
        ("db.missing", "le", 100, False),
        ("status", "gt", 1, False),  # text is never a number
        ("ok", "eq", 1, False),  # true is not 1
        ("ok", "eq", True, True),
    ],
)
def test_json_check(path: str, op: str, value: Any, holds: bool) -> None:
    check = validate(JsonCheck, {"name": "c", "path": path, "op": op, "value": value}, "emr.yml")
    assert json_check_holds(DOC, check) is holds
