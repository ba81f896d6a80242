"""One message about several incidents: the children a cause released, still failing, for one team.

When a core switch comes back, the CIs behind it that still fail after the release grace are paged to their
owners, but one message per person and channel lists them all, instead of one message each: three hundred
SMS at once is a storm of its own, and the one who reads them needs the list, not the count of buzzes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import Incident
from alertrouter.msg import SEPARATORS
from alertrouter.notify import pages
from alertrouter.notify.queue import Listing, page
from alertrouter.settings import PRIORITIES

LISTED = 10
"""How many incidents a message names in its title; the body lists up to `LINES`, then says how many more."""
LINES = 30


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def listing(router: Router, incs: list[Incident], cause: Incident, *, session: Session) -> Listing:
    """Return what a message listing `incs`, most urgent first, released by `cause`, says."""
    incs = sorted(incs, key=lambda i: (PRIORITIES.index(i.priority), i.id))
    lead = pages.facts(router, incs[0], session=session)
    _ = lead.gettext
    base = router.settings.file.console_url.rstrip("/")
    names = [pages.incident_title(i, lead.lang, router.inventory) for i in incs]
    more = len(names) - LISTED
    title = _("%(count)d CIs still failing after %(cause)s (#%(id)d) recovered: %(names)s") % {
        "count": len(incs),
        "cause": cause.ci or _("its cause"),
        "id": cause.id,
        "names": SEPARATORS.get(lead.lang, {}).get("; ", "; ").join(names[:LISTED]),
    }
    if more > 0:
        title += _("; and %(count)d more") % {"count": more}
    lines = [
        f"#{i.id} {i.priority} {n} - {base}/console/incidents/{i.id}"
        for i, n in zip(incs, names, strict=True)
    ]
    if len(incs) > LINES:
        lines = [*lines[:LINES], _("... and %(count)d more on the board") % {"count": len(incs) - LINES}]
    team = incs[0].team
    facts = dataclasses.replace(
        lead,
        title=title,
        explanation="\n".join([lead.explanation, _("Still failing:"), *lines]),
        ci=", ".join(_unique([i.ci or "" for i in incs])),
        departments=pages.department_names(
            router.inventory, [d.department for i in incs for d in i.departments], lead.lang
        ),
        console=f"{base}/console/?team={team}" if team else f"{base}/console/",
    )
    return Listing(facts, sorted(i.id for i in incs), {i.priority for i in incs})


def page_together(
    router: Router,
    incs: list[Incident],
    cause: Incident,
    people: list[str],
    step: str,
    *,
    session: Session,
    now: dt.datetime,
) -> int:
    """Queue one message per person and channel listing incidents of one team released by `cause`.

    A channel takes the message when it carries the priority of any of them; the message is kept under
    the most urgent one and is cancelled only when every incident it lists is over.
    """
    about = listing(router, incs, cause, session=session)
    lead = min(incs, key=lambda i: (PRIORITIES.index(i.priority), i.id))
    return page(router, lead, people, step, session=session, now=now, listing=about)
