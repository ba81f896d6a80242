"""Pages in the configured language, from the same gettext catalogs as the console (no Flask needed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.support import Translations

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
