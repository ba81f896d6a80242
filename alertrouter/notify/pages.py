"""What a page says, per channel: e-mail text (its HTML is drawn from it), a chat markdown card, a short SMS.

Every page leads with its action links, then why this priority, the CI, who is on call and how this CI's
earlier incidents were fixed. Words come from the gettext catalogs in the router's `language`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.links import Action
from alertrouter.models import Incident
from alertrouter.msg import N_, SEPARATORS
from alertrouter.notify.lang import say, translator
from hospmon.inventory import Inventory
from hospmon.inventory.schema import Name

SMS_LIMIT = 70
"""Characters in one SMS holding Chinese (UCS-2); a longer one arrives in pieces or not at all."""
HISTORY = 3


@dataclass(frozen=True)
class Facts:
    """What every message about one incident shows, in the page's language."""

    inc: Incident
    lang: str
    title: str
    explanation: str
    owner: str
    ci: str
    service: str
    team: str
    departments: str
    history: list[str]
    console: str

    @property
    def gettext(self) -> Callable[[str], str]:
        """Return gettext in the page's language."""
        return translator(self.lang)


def _name(name: Name | None, fallback: str, lang: str) -> str:
    if name is None:
        return fallback
    return (name.zh or name.en) if lang == "zh" else (name.en or name.zh)


def department_names(inv: Inventory, ids: list[str], lang: str) -> str:
    """Name departments in a language, once each, in order (an id the inventory lacks as it is)."""
    sep = SEPARATORS.get(lang, {}).get(", ", ", ")
    known = inv.departments
    return sep.join(_name(known[d].name, d, lang) if d in known else d for d in dict.fromkeys(ids))


def incident_title(inc: Incident, lang: str, inventory: Inventory) -> str:
    """Say an incident's title in a language: the alert on its CI, once, then the summary if it adds; a
    title the router wrote itself, as its message."""
    if inc.title_msg:
        return say(inc.title, inc.title_msg, lang, inventory)
    english = f"{inc.alertname} on {inc.ci or 'no CI'}"
    if not inc.title.startswith(english):
        return inc.title
    rest = inc.title[len(english) :].removeprefix(": ").strip()
    if rest == english:  # stored before titles stopped repeating a summary that only names the alert
        rest = ""
    _ = translator(lang)
    base = _("%(alert)s on %(ci)s") % {"alert": inc.alertname, "ci": inc.ci or _("no CI")}
    return _("{what}: {summary}").format(what=base, summary=rest) if rest else base


def facts(router: Router, inc: Incident, *, session: Session) -> Facts:
    """Gather what a page about an incident says."""
    from alertrouter.console.resolutions import earlier

    lang = router.settings.file.language
    _ = translator(lang)
    inv = router.inventory
    ci = inv.cis.get(inc.ci or "")
    # The kind is a word of the catalogs (console/i18n.py); the location is the inventory's, as written.
    where = ", ".join(x for x in (_(ci.kind.value) if ci else "", ci.location if ci else "") if x)
    history = []
    for old, res in earlier(inc, session=session, limit=HISTORY, same_ci_only=True):
        when = old.created_at.astimezone(inv.tz).strftime("%Y-%m-%d %H:%M")
        fix = f" · {_(res.cause)}: {res.fix}" if res else ""
        history.append(f"#{old.id} {when} · {_(old.status)}{fix}")
    team = inv.teams.get(inc.team or "")
    service = inv.services.get(inc.service or "")
    return Facts(
        inc=inc,
        lang=lang,
        title=incident_title(inc, lang, inv),
        explanation=say(inc.explanation, inc.explanation_msg, lang, inv),
        owner=say(inc.owner_explanation, inc.owner_msg, lang, inv),
        ci=f"{inc.ci} ({where})" if inc.ci and where else inc.ci or "",
        service=_name(service.name, inc.service or "", lang) if service else inc.service or "",
        team=_name(team.name, inc.team or "", lang) if team else inc.team or "",
        departments=department_names(inv, [d.department for d in inc.departments], lang),
        history=history,
        console=f"{router.settings.file.console_url.rstrip('/')}/console/incidents/{inc.id}",
    )


def subject(f: Facts) -> str:
    """Return the subject line: priority, number and title."""
    return f"[{f.inc.priority}] #{f.inc.id} {f.title}"


LINK_WORDS = {
    Action.acknowledge: N_("Acknowledge"),
    Action.resolve: N_("Resolve"),
    Action.open: N_("View the incident"),
}


def labels(_: Callable[[str], str]) -> dict[str, str]:
    """Return the pages' words in one language (kept out of f-strings, where extraction cannot see them)."""
    return {
        "why": _("Why this priority"),
        "ci": _("Configuration item"),
        "service": _("Service"),
        "departments": _("Departments"),
        "team": _("Team"),
        "on_call": _("On call"),
        "nobody": _("Nobody"),
        "paged": _("Paged"),
        "history": _("Earlier occurrences on this configuration item"),
        "none": _("None so far."),
        "console": _("Console"),
        "ack": _("Acknowledge"),
    }


def email_text(f: Facts, links: dict[Action, str], paged: str, step: str) -> str:
    """Return the e-mail's text: links first, then the explanation, the CI, the people, the history."""
    _, w = f.gettext, labels(f.gettext)
    lines = [subject(f), ""]
    lines += [f"{_(LINK_WORDS[a])}: {url}" for a, url in links.items()]
    lines += ["", f"{w['why']}: {f.explanation}"]
    if f.ci:
        lines.append(f"{w['ci']}: {f.ci}")
    if f.service:
        lines.append(f"{w['service']}: {f.service}")
    if f.departments:
        lines.append(f"{w['departments']}: {f.departments}")
    lines.append(f"{w['team']}: {f.team or '-'} · {w['on_call']}: {f.inc.assignee or w['nobody']}")
    lines.append(f"{w['paged']}: {paged} ({step})")
    lines += ["", f"{w['history']}:"]
    lines += f.history or [w["none"]]
    lines += ["", f"{w['console']}: {f.console}"]
    return "\n".join(lines)


def chat_markdown(f: Facts, links: dict[Action, str], paged: str, step: str) -> str:
    """Return a WeCom or DingTalk markdown card; in a group its links act as the person paged."""
    _, w = f.gettext, labels(f.gettext)
    lines = [
        f"### [{f.inc.priority}] #{f.inc.id} {f.title}",
        f"> {f.explanation}",
        "",
        f"**{w['ci']}** {f.ci or '-'}  ",
        f"**{w['team']}** {f.team or '-'} · **{w['on_call']}** {f.inc.assignee or w['nobody']}  ",
        f"**{w['paged']}** {paged} ({step})",
        "",
        " · ".join(f"[{_(LINK_WORDS[a])}]({url})" for a, url in links.items()),
    ]
    if f.history:
        lines += ["", f"**{w['history']}**"]
        lines += [f"- {h}" for h in f.history]
    return "\n".join(lines)


def sms_text(f: Facts, links: dict[Action, str]) -> str:
    """Return one SMS of at most 70 characters: priority, number, title cut to fit, the acknowledge link."""
    head = f"[{f.inc.priority}]#{f.inc.id} "
    link = links.get(Action.acknowledge) or links.get(Action.open) or ""
    tail = f" {labels(f.gettext)['ack']} {link}" if link else ""
    room = SMS_LIMIT - len(head) - len(tail)
    title = f.title if len(f.title) <= room else f.title[: max(room - 1, 0)] + "…"
    return head + title + tail


def now_local(router: Router, at: dt.datetime) -> str:
    """Show a moment in the hospital's time zone, to the minute."""
    return at.astimezone(router.inventory.tz).strftime("%Y-%m-%d %H:%M")
