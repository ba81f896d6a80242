"""Messages the router writes (explanations, timeline entries), kept so any reader's language can say them.

``T("acknowledged by {by}", by=by)`` is the English text (a `str`, stored as today) that also carries its
template and arguments; `data()` is what the store keeps beside the text, and `render()` says it again in
another language through the gettext catalogs. Arguments are plain values (ids, numbers, times), other
messages, `Ref`s to inventory entries (said by their name in the reader's language) or `Joined` lists.
``make translations`` extracts the templates (keyword ``T``); a message stored before this existed, or whose
data is missing, shows its English text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NameOf = Callable[[str, str], str]
"""(kind, id) -> the entry's name in the reader's language."""


@dataclass(frozen=True)
class Ref:
    """An inventory entry: department, service, team, person or ci; `english` is its English name."""

    kind: str
    id: str
    english: str

    def __str__(self) -> str:
        return self.english


@dataclass(frozen=True)
class Joined:
    """Values said as a list: "a, b" in English, "a、b" in Chinese (or with `sep` given, e.g. "; ")."""

    items: tuple[Any, ...]
    sep: str = ", "

    def __str__(self) -> str:
        return self.sep.join(str(i) for i in self.items)


@dataclass(frozen=True)
class Said:
    """Text that came already said in several languages (an alert's `summary` and `summary_zh`), not from
    the catalogs; `english` is its English text, `others` maps a language to its text when there is one."""

    english: str
    others: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.english


class Msg(str):
    """English text that remembers its template and arguments."""

    template: str
    args: dict[str, Any]

    def __new__(cls, template: str, **args: Any) -> Msg:
        """Build the English text from a template and arguments."""
        obj = super().__new__(cls, template.format(**{k: str(v) for k, v in args.items()}))
        obj.template, obj.args = template, args
        return obj

    def data(self) -> dict[str, Any]:
        """Return what the store keeps so the message can be said in another language."""
        return {"t": self.template, "a": {k: _encode(v) for k, v in self.args.items()}}


def N_(text: str) -> str:
    """Mark a string for the catalogs without translating it now."""
    return text


def T(template: str, **args: Any) -> Msg:
    """Make a message; its template is a msgid of the gettext catalogs."""
    return Msg(template, **args)


def join(parts: Iterable[Any], sep: str = "; ") -> Msg:
    """Join messages into one (the priority explanation's parts)."""
    return Msg("{parts}", parts=Joined(tuple(parts), sep))


def _encode(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"msg": value.data()}
    if isinstance(value, Ref):
        return {"ref": [value.kind, value.id, value.english]}
    if isinstance(value, Said):
        return {"said": {"en": value.english, **dict(value.others)}}
    if isinstance(value, Joined):
        return {"join": [_encode(v) for v in value.items], "sep": value.sep}
    return value if isinstance(value, int | float) else str(value)


def msg_data(text: str) -> dict[str, Any]:
    """Return the extra timeline data that lets a message be said in another language ({} for plain text)."""
    return {"msg": text.data()} if isinstance(text, Msg) else {}


def stored(text: str) -> dict[str, Any] | None:
    """Return what an incident keeps beside an explanation to say it in other languages (None: plain text)."""
    return text.data() if isinstance(text, Msg) else None


SEPARATORS = {"zh": {", ": "\u3001", "; ": "\uff1b"}}


def render(data: Mapping[str, Any], gettext: Callable[[str], str], name_of: NameOf, lang: str) -> str:
    """Say a stored message in a language."""
    args = {k: _decode(v, gettext, name_of, lang) for k, v in data.get("a", {}).items()}
    try:
        return gettext(str(data["t"])).format(**args)
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder: say it in English
        return str(data["t"]).format(**args)


def _decode(value: Any, gettext: Callable[[str], str], name_of: NameOf, lang: str) -> str:
    if isinstance(value, dict):
        if "msg" in value:
            return render(value["msg"], gettext, name_of, lang)
        if "ref" in value:
            kind, ident, english = value["ref"]
            return name_of(str(kind), str(ident)) or str(english)
        if "said" in value:
            said = value["said"]
            return str(said.get(lang) or said.get("en", ""))
        if "join" in value:
            sep = str(value.get("sep", ", "))
            sep = SEPARATORS.get(lang, {}).get(sep, sep)
            return sep.join(_decode(v, gettext, name_of, lang) for v in value["join"])
    return str(value)
