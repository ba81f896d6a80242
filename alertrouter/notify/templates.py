"""Channel templates: Python format strings over a fixed set of incident fields, for channels that set their
own ``subject`` or ``body``; others get the built-in pages of `alertrouter.notify.pages`."""

from __future__ import annotations

import string

FIELDS = (
    "id",
    "priority",
    "title",
    "status",
    "explanation",
    "owner",
    "person",
    "step",
    "ci",
    "service",
    "departments",
    "team",
    "url",
    "ack_url",
    "resolve_url",
    "open_url",
    "history",
)


def check_template(template: str, what: str) -> None:
    """Refuse a template using a field that does not exist or broken braces."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    unknown = sorted(n for n in names if n not in FIELDS)
    if unknown:
        raise ValueError(f"{what}: unknown fields {', '.join(unknown)}; use {', '.join(FIELDS)}")


def render(template: str, fields: dict[str, str]) -> str:
    """Fill a checked template."""
    return template.format(**fields)
