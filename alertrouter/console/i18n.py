"""Chinese and English through Flask-Babel: gettext catalogs under ``alertrouter/translations``.

The console is written in English; `make translations` extracts every marked string (``_()`` in templates
and views, ``N_()`` for words chosen at run time) and merges them into the zh catalog, and
tests/console/test_i18n.py fails while any of them has no Chinese.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, g, request
from flask_babel import Babel, get_locale

from alertrouter.msg import N_

LANGS = ("zh", "en")
DEFAULT = "en"


# Words the pages look up at run time (a status, a cause, an event kind): marked here so extraction sees
# them; the pages translate them with _(value).
VOCABULARY = (
    # incident states and timeline event kinds the router writes
    N_("triggered"),
    N_("acknowledged"),
    N_("resolved"),
    N_("closed"),
    N_("opened"),
    N_("alert_firing"),
    N_("alert_resolved"),
    N_("notification_sent"),
    N_("notification_failed"),
    N_("notification_skipped"),
    N_("priority_changed"),
    N_("paged"),
    N_("escalated"),
    N_("grouped"),
    N_("released"),
    N_("held"),
    N_("reopened"),
    N_("assigned"),
    N_("note"),
    N_("redacted"),
    # root causes, roles, problem and change states, recurrences, audit channels
    N_("hardware"),
    N_("network"),
    N_("software"),
    N_("configuration"),
    N_("capacity"),
    N_("vendor"),
    N_("power"),
    N_("human"),
    N_("unknown"),
    N_("viewer"),
    N_("engineer"),
    N_("admin"),
    N_("open"),
    N_("known_error"),
    N_("change"),
    N_("release"),
    N_("planned"),
    N_("cancelled"),
    N_("done"),
    N_("none"),
    N_("daily"),
    N_("weekly"),
    N_("console"),
    N_("api"),
    N_("link"),
    N_("worker"),
    # statistics headings chosen per dimension
    N_("By team"),
    N_("By person"),
    N_("By service"),
    N_("By department"),
    N_("By priority"),
    N_("This week"),
    N_("Last week"),
    # the on-call calendar: weekdays, and what put someone on call
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
    N_("rotation"),
    # the ward status page's states, and playbook timeline entries
    N_("working"),
    N_("slow"),
    N_("down"),
    N_("playbook_started"),
    N_("playbook_ended"),
    N_("snoozed"),
    # the board's status choices
    N_("Open"),
    N_("All"),
    # actions in the audit log
    N_("acknowledge"),
    N_("assign"),
    N_("note"),
    N_("resolve"),
    N_("snooze"),
    N_("reopen"),
    N_("reassign"),
    N_("merge"),
    N_("login"),
    N_("login_failed"),
    N_("login_limited"),
    N_("logout"),
    N_("set_language"),
    N_("password_changed"),
    N_("user_created"),
    N_("user_role"),
    N_("article_created"),
    N_("article_edited"),
    N_("change_created"),
    N_("change_cancelled"),
    N_("problem_updated"),
    N_("problems_scanned"),
    N_("oncall_override"),
    N_("oncall_swap"),
    N_("oncall_absence"),
    N_("oncall_cancel"),
    N_("audit_exported"),
    N_("retention"),
    # severities, as the alerts' labels give them
    N_("critical"),
    N_("warning"),
    N_("info"),
    N_("reassigned"),
    N_("merged"),
    N_("split"),
    N_("notification_cancelled"),
    N_("notification_in_doubt"),
    N_("override"),
    N_("absence"),
    # kinds of configuration item, as the inventory gives them (a page names the kind beside the CI)
    N_("switch"),
    N_("router"),
    N_("firewall"),
    N_("wireless"),
    N_("server"),
    N_("vm_host"),
    N_("virtual_machine"),
    N_("storage"),
    N_("ups"),
    N_("environment"),
    N_("database"),
    N_("application"),
    N_("interface_engine"),
    N_("modality"),
    N_("workstation"),
    N_("terminal"),
    N_("kiosk"),
    N_("printer"),
)


def select_locale() -> str:
    """Choose the language: the logged-in user's setting, else the browser's Accept-Language, else English."""
    chosen = g.get("console_user_lang")
    if chosen in LANGS:
        return cast(str, chosen)
    return request.accept_languages.best_match(LANGS, default=DEFAULT) or DEFAULT


def current_lang() -> str:
    """Return this request's language code, zh or en."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGS else DEFAULT


def init_i18n(app: Flask) -> None:
    """Attach Flask-Babel to the app with the packaged catalogs and the console's locale selector."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    Babel(app, locale_selector=select_locale)
