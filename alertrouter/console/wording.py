"""What the router wrote, said in the reader's language: incident titles, explanations, timeline entries."""

from __future__ import annotations

from alertrouter.models import Event, Incident
from alertrouter.notify.pages import incident_title


def title_of(inc: Incident, lang: str) -> str:
    """Return an incident's title in a language."""
    return incident_title(inc, lang)


def explain(inc: Incident, lang: str) -> str:
    """Return why an incident has its priority, in a language."""
    return inc.explanation


def owner_text(inc: Incident, lang: str) -> str:
    """Return why an incident has its owner, in a language."""
    return inc.owner_explanation


def event_text(event: Event, lang: str) -> str:
    """Return a timeline entry's text in a language."""
    return event.text
