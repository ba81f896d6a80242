"""Pass alert labels and annotations through the PHI guard before anything stores, shows or sends them.

A label value the guard refuses becomes ``[redacted]`` whole; in an annotation (free text) only the refused
span is replaced, so "Interface GE1/0/3 (张三's kiosk) is down" keeps saying which interface. The alert
records where and by which rule (``labels.ifAlias: han_name``), never the value; the guard counts each
refusal on its tally (the app's ``hospmon_router_phi_refused_total``) and logs the rule and the label name.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote_plus

from prometheus_client import Counter

from alertrouter.intake.parser import ParsedAlert, WebhookMessage
from hospmon.phi import REDACTED, PhiGuard, RefusalTally


class CountingTally(RefusalTally):
    """The guard's tally, also counted in a Prometheus counter (shared by gunicorn's processes)."""

    def __init__(self, counter: Counter) -> None:
        super().__init__()
        self.counter = counter

    def add(self, rule: str) -> None:
        """Count one refusal here and in the counter."""
        super().add(rule)
        self.counter.labels(rule).inc()


def redact_alert(alert: ParsedAlert, guard: PhiGuard) -> ParsedAlert:
    """Return the alert with refused values replaced and the replacements listed in `redactions`."""
    labels, hits = guard.redact_labels(alert.labels)
    found = [f"labels.{name}: {rule}" for name, rule in hits]
    annotations = {}
    for name, text in alert.annotations.items():
        clean, rules = guard.redact_text(text, where=f"annotations.{name}")
        annotations[name] = clean
        found += [f"annotations.{name}: {rule}" for rule in dict.fromkeys(rules)]
    url = alert.generator_url
    # The URL carries the rule's expression, URL-encoded: a matcher on a patient label would hide there.
    verdict = guard.check("generatorURL", unquote_plus(url))
    if not verdict.ok:
        url = REDACTED
        found.append(f"generatorURL: {verdict.rule}")
    if not found:
        return alert
    return replace(alert, labels=labels, annotations=annotations, generator_url=url, redactions=tuple(found))


def _quiet(values: dict[str, str], guard: PhiGuard) -> dict[str, str]:
    """Redact copies of alert labels (group and route labels) without counting them a second time."""
    return {k: REDACTED if guard.find(v) else v for k, v in values.items()}


def redact_message(message: WebhookMessage, guard: PhiGuard) -> WebhookMessage:
    """Return the delivery with every alert, and the group labels and key it stores, through the guard."""
    key = message.group_key
    if guard.find(key):
        key = REDACTED
    return replace(
        message,
        alerts=[redact_alert(a, guard) for a in message.alerts],
        group_labels=_quiet(message.group_labels, guard),
        route_labels=_quiet(message.route_labels, guard),
        group_key=key,
    )
