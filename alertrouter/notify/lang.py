"""Pages in the configured language, from the same gettext catalogs as the console (no Flask needed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.support import Translations

from alertrouter.msg import render
from hospmon.inventory import Inventory

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


@cache
def catalog(lang: str) -> NullTranslations:
    """Return the catalog for a language (English: the strings as written)."""
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [lang])


def translator(lang: str) -> Callable[[str], str]:
    """Return gettext for a language."""
    return catalog(lang).gettext


def names(inventory: Inventory, lang: str) -> Callable[[str, str], str]:
    """Return a lookup naming an inventory entry (department, service, team, person) in a language."""
    people = {m.id: m.name for t in inventory.teams.values() for m in t.members}
    tables: dict[str, Mapping[str, Any]] = {
        "department": inventory.departments,
        "service": inventory.services,
        "team": inventory.teams,
    }

    def name_of(kind: str, ident: str) -> str:
        entry = (
            people.get(ident) if kind == "person" else getattr(tables.get(kind, {}).get(ident), "name", None)
        )
        if entry is None:
            return ""
        return str((entry.zh or entry.en) if lang == "zh" else (entry.en or entry.zh))

    return name_of


def say(text: str, data: Mapping[str, Any] | None, lang: str, inventory: Inventory) -> str:
    """Say a stored message (explanation, timeline entry) in a language; with no data, its English text."""
    if not data:
        return text
    return render(data, translator(lang), names(inventory, lang), lang)
