"""Every console string has its Chinese, and the browser's language is read right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alertrouter.console.i18n import ZH, pick
from alertrouter.console.models import Cause, Role

CONSOLE = Path(__file__).resolve().parents[2] / "alertrouter" / "console"


def test_every_string_is_translated() -> None:
    used: set[str] = set()
    for path in [*(CONSOLE / "templates").rglob("*.html"), *CONSOLE.glob("*.py")]:
        used.update(re.findall(r"""_\(\s*'([^']+)'\s*\)""", path.read_text()))
        used.update(re.findall(r"""_\(\s*"([^"]+)"\s*\)""", path.read_text()))
    used.update(c.value for c in Cause)
    used.update(r.value for r in Role)
    used.update(("triggered", "acknowledged", "resolved", "closed", "open", "known_error", "planned", "done"))
    missing = sorted(u for u in used if u not in ZH)
    assert missing == []
    assert len(used) > 100


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, zh-TW;q=0.5", "zh"),
        ("fr-FR", "en"),
        ("", "en"),
        ("zh;q=bad, en", "en"),
    ],
)
def test_pick(header: str, lang: str) -> None:
    assert pick(header) == lang
