"""What the router wrote, said in the reader's language: incident titles, explanations, timeline entries."""

from __future__ import annotations

from alertrouter.models import Event, Incident
from alertrouter.msg import stored
from alertrouter.notify.lang import say
from alertrouter.notify.pages import incident_title
from alertrouter.state import current_state


def title_of(inc: Incident, lang: str) -> str:
    """Return an incident's title in a language."""
    return incident_title(inc, lang, current_state().router.inventory)


def explain(inc: Incident, lang: str) -> str:
    """Return why an incident has its priority, in a language."""
    return say(inc.explanation, inc.explanation_msg, lang, current_state().router.inventory)


def owner_text(inc: Incident, lang: str) -> str:
    """Return why an incident has its owner, in a language."""
    return say(inc.owner_explanation, inc.owner_msg, lang, current_state().router.inventory)


def event_text(event: Event, lang: str) -> str:
    """Return a timeline entry's text in a language."""
    return say(event.text, (event.data or {}).get("msg"), lang, current_state().router.inventory)


def reason_text(reason: str, lang: str) -> str:
    """Return why the router refused something, in a language (a message; any other text as it is)."""
    return say(reason, stored(reason), lang, current_state().router.inventory)
