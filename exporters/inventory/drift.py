"""Drift between the wire and the inventory's dependency graph, as metrics (see `hospmon.inventory.topology`).

The observation file is the one ``hospmon discover`` writes (a timer runs it); it is read again whenever it
changes, so a new discovery shows at the next scrape without a reload. Sample::

    hospmon_topology_observed_timestamp_seconds 1.77e+09
    hospmon_topology_observation_valid 1
    hospmon_topology_drift{drift="undeclared"} 1
    hospmon_topology_link_drift{ci="agg-sw-1",service="network",department="it",tier="1",peer="fw-1",
                                drift="undeclared"} 1
    hospmon_topology_unknown_devices{ci="acc-sw-1",service="network",department="it",tier="1"} 1
    hospmon_topology_ci_silent{ci="old-sw-9",service="network",department="it",tier="1"} 1
    hospmon_topology_link_seen{ci="agg-sw-1",service="network",department="it",tier="1",peer="core-sw-1"} 1

The links seen on the wire (declared or not) are exported too, one series per end, for the console's
topology picture, which draws a declared link seen on the wire apart from one nobody has confirmed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from hospmon.config import ConfigError
from hospmon.inventory import Inventory
from hospmon.inventory.observed import Observation, load_observation
from hospmon.inventory.topology import compare

log = logging.getLogger(__name__)
CI_LABELS = ["ci", "service", "department", "tier"]
KINDS = ("undeclared", "absent", "unknown_device", "silent_ci")


class ObservationFile:
    """The last discovery's observation, re-read when the file changes; None while it cannot be read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._observation: Observation | None = None
        self._lock = threading.Lock()

    def current(self) -> Observation | None:
        """Return the observation, reading the file again if it changed."""
        try:
            stat = self.path.stat()
        except OSError as exc:
            log.warning("cannot read topology observation %s: %s", self.path, exc.strerror)
            return None
        stamp = (stat.st_mtime, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._observation = load_observation(self.path)
                except ConfigError as exc:
                    log.warning("invalid topology observation: %s", exc)
                    self._observation = None
            return self._observation


def _labels(inv: Inventory, ci: str) -> list[str]:
    return [ci, inv.cis[ci].service, inv.department_of(ci), str(inv.services[inv.cis[ci].service].tier)]


def drift_metrics(inv: Inventory, source: ObservationFile) -> Iterator[Metric]:
    """Yield the drift of the current observation against the inventory."""
    observation = source.current()
    valid = GaugeMetricFamily(
        "hospmon_topology_observation_valid", "1 when the discovery observation file could be read."
    )
    valid.add_metric([], 1 if observation is not None else 0)
    yield valid
    if observation is None:
        return
    drift = compare(inv, observation)
    stamp = GaugeMetricFamily(
        "hospmon_topology_observed_timestamp_seconds", "When the discovery behind these figures ran."
    )
    try:
        when = dt.datetime.strptime(observation.observed_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        stamp.add_metric([], when.timestamp())
    except ValueError:
        pass
    totals = GaugeMetricFamily(
        "hospmon_topology_drift", "Findings of the last comparison, by kind.", labels=["drift"]
    )
    counts = [len(drift.undeclared), len(drift.absent), len(drift.unknown), len(drift.silent)]
    for kind, n in zip(KINDS, counts, strict=True):
        totals.add_metric([kind], n)
    links = GaugeMetricFamily(
        "hospmon_topology_link_drift",
        "A link on the wire not in depends_on (undeclared), or declared and not on the wire (absent).",
        labels=[*CI_LABELS, "peer", "drift"],
    )
    for kind, found in (("undeclared", drift.undeclared), ("absent", drift.absent)):
        for link in found:
            # One series per end, so each CI's owner sees the finding with the CI's own labels.
            links.add_metric([*_labels(inv, link.a), link.b, kind], 1)
            links.add_metric([*_labels(inv, link.b), link.a, kind], 1)
    unknown = GaugeMetricFamily(
        "hospmon_topology_unknown_devices",
        "Neighbours a CI sees on the wire that are in no CI (counted, not named: names are in the report).",
        labels=CI_LABELS,
    )
    for ci, n in sorted(Counter(w for w in drift.unknown.values() if w in inv.cis).items()):
        unknown.add_metric(_labels(inv, ci), n)
    silent = GaugeMetricFamily(
        "hospmon_topology_ci_silent",
        "An SNMP-monitored CI whose address discovery asked gave no answer.",
        labels=CI_LABELS,
    )
    for ci in drift.silent:
        silent.add_metric(_labels(inv, ci), 1)
    seen = GaugeMetricFamily(
        "hospmon_topology_link_seen", "A link between two CIs seen on the wire (LLDP/CDP).",
        labels=[*CI_LABELS, "peer"])  # fmt: skip
    for link in drift.seen:
        seen.add_metric([*_labels(inv, link.a), link.b], 1)
        seen.add_metric([*_labels(inv, link.b), link.a], 1)
    yield from (stamp, totals, links, unknown, silent, seen)
