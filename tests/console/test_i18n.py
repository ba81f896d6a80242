"""Every marked console string has its Chinese in the catalog, the compiled catalog is current, and the
language is the user's choice, else the browser's."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "alertrouter" / "translations" / "zh" / "LC_MESSAGES"


def extracted() -> set[str]:
    """Extract the marked strings the way `make translations` does (babel.cfg, keyword N_)."""
    method_map = [("alertrouter/**.py", "python"), ("alertrouter/**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "T": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, keywords=keywords, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def zh_catalog() -> Catalog:
    with (CATALOG / "messages.po").open("rb") as f:
        return read_po(f, locale="zh")


def test_every_marked_string_has_chinese() -> None:
    used = extracted()
    catalog = zh_catalog()
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    fuzzy = sorted(m for m in used if catalog.get(m) and catalog.get(m).fuzzy)
    assert missing == [], "run `make translations` and translate these in messages.po"
    assert fuzzy == [], "check these fuzzy guesses in messages.po and clear the flag"
    assert len(used) > 150


def test_compiled_catalog_matches_the_po_file() -> None:
    out = io.BytesIO()
    write_mo(out, zh_catalog())
    assert (CATALOG / "messages.mo").read_bytes() == out.getvalue(), "run `make translations`"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, zh-TW;q=0.5", "zh-CN"),
        ("fr-FR", "en"),
        ("", "en"),
        ("zh;q=bad, en", "en"),
    ],
)
def test_browser_language_picks_the_page_language(client: FlaskClient, header: str, lang: str) -> None:
    page = client.get("/console/login", headers={"Accept-Language": header})
    assert f'<html lang="{lang}">' in page.text
    assert ("登录" in page.text) == (lang == "zh-CN")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_user_setting_wins_over_the_browser(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    token = as_user("wang.lei")
    english = {"Accept-Language": "en-US"}
    assert "事件" not in client.get("/console/", headers=english).text
    saved = client.post("/console/settings", data={"csrf": token, "lang": "zh"}, headers=english)
    assert saved.status_code == 303
    board = client.get("/console/", headers=english).text
    assert '<html lang="zh-CN">' in board
    assert "<h1>事件</h1>" in board
