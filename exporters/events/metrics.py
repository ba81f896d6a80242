"""The receiver's own metrics, by source kind, rule and reason: never by message text or sender address.

hospmon_events_received_total{source="trap"} 1042
hospmon_events_matched_total{source="trap",rule="if_link_down"} 1000
hospmon_events_unmatched_total{source="syslog"} 3
hospmon_events_rate_limited_total{source="trap",rule="if_link_down"} 880
hospmon_events_dropped_total{source="trap",reason="backlog_full"} 0
hospmon_events_unknown_sender_total{source="syslog"} 1
hospmon_events_address_claims_ignored_total{source="trap"} 4
hospmon_events_last_event_timestamp_seconds{ci="acc-sw-icu-5f",source="trap"} 1.7687e+09
hospmon_events_alerts_open 2
hospmon_events_queued_alerts{alertmanager="http://127.0.0.1:9093"} 0
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

SOURCES = ("trap", "syslog")
DROP_REASONS = ("backlog_full", "malformed", "oversized", "too_many_connections", "unknown_sender_limit")


class Counts:
    """Counters the listeners bump from their threads; read when Prometheus scrapes."""

    def __init__(self, rules: Iterable[tuple[str, str]], lock: threading.Lock) -> None:
        self._lock = lock  # the pipeline's: events update these tables while holding it
        self.received: Counter[str] = Counter(dict.fromkeys(SOURCES, 0))
        self.unmatched: Counter[str] = Counter(dict.fromkeys(SOURCES, 0))
        self.unknown: Counter[str] = Counter(dict.fromkeys(SOURCES, 0))
        self.claims_ignored: Counter[str] = Counter({"trap": 0})
        self.matched: Counter[tuple[str, str]] = Counter(dict.fromkeys(rules, 0))
        self.limited: Counter[tuple[str, str]] = Counter(dict.fromkeys(self.matched, 0))
        self.dropped: Counter[tuple[str, str]] = Counter({(s, r): 0 for s in SOURCES for r in DROP_REASONS})
        self.last_event: dict[tuple[str, str], float] = {}
        self.posts: Counter[tuple[str, str]] = Counter()
        self.delivered: Counter[str] = Counter()

    def add(self, table: Counter[str] | Counter[tuple[str, str]], key: object, n: int = 1) -> None:
        """Add `n` to one counter under the lock."""
        with self._lock:
            table[key] += n  # type: ignore[index]

    def families(self) -> list[Metric]:
        """Return every counter as a metric family, built under the lock."""
        tables = [
            ("received", "Events received.", ["source"], self.received),
            ("unmatched", "Events no rule matched.", ["source"], self.unmatched),
            ("unknown_sender", "Events from an address no CI owns.", ["source"], self.unknown),
            (
                "address_claims_ignored",
                "Traps whose agent address or snmpTrapAddress.0 differs from their source, which is no "
                "trap relay: mapped by the source.",
                ["source"],
                self.claims_ignored,
            ),
            ("matched", "Events a rule matched.", ["source", "rule"], self.matched),
            (
                "rate_limited",
                "Events that would open an alert over a rule's limit.",
                ["source", "rule"],
                self.limited,
            ),
            ("dropped", "Events dropped before the rules, by reason.", ["source", "reason"], self.dropped),
            ("alertmanager_posts", "Batches posted, by result.", ["alertmanager", "result"], self.posts),
            ("alerts_delivered", "Alerts Alertmanager accepted.", ["alertmanager"], self.delivered),
        ]
        last = GaugeMetricFamily(
            "hospmon_events_last_event_timestamp_seconds",
            "When a CI's latest event arrived.",
            labels=["ci", "source"],
        )
        with self._lock:
            out: list[Metric] = [_counter(*table) for table in tables]  # type: ignore[arg-type]
            for (ci, source), when in sorted(self.last_event.items()):
                last.add_metric([ci, source], when)
        return [*out, last]


def _counter(
    name: str, doc: str, labels: list[str], table: Counter[str] | Counter[tuple[str, str]]
) -> Metric:
    family = CounterMetricFamily(f"hospmon_events_{name}", doc, labels=labels)
    for key, value in sorted(table.items()):
        family.add_metric([key] if isinstance(key, str) else list(key), value)
    return family


def gauge(name: str, doc: str, labels: list[str], values: Iterable[tuple[list[str], float]]) -> Metric:
    """Return a gauge family from label values and numbers."""
    family = GaugeMetricFamily(f"hospmon_events_{name}", doc, labels=labels)
    for label_values, value in values:
        family.add_metric(label_values, value)
    return family


def counter(name: str, doc: str, labels: list[str], values: Iterable[tuple[list[str], float]]) -> Metric:
    """Return a counter family (``_total`` added) from label values and counts."""
    family = CounterMetricFamily(f"hospmon_events_{name}", doc, labels=labels)
    for label_values, value in values:
        family.add_metric(label_values, value)
    return family
