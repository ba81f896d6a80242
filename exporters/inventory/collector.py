"""Metrics about the inventory itself, for joins in PromQL and for warranty alerts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, InfoMetricFamily, Metric

from hospmon.inventory import Inventory, warranty_timestamp

# Every per-CI series carries the labels a scrape of that CI would get from its file_sd target, so rules keep
# `ci` and `service` without joins (the inventory exporter is scraped with honor_labels).
_CI_LABELS = ["ci", "service", "department", "tier"]


def inventory_metrics(inv: Inventory) -> Iterator[Metric]:
    """Yield the inventory's metrics.

    Sample::

        hospmon_ci_info{ci="core-sw-1",service="network",department="it",tier="1",kind="switch",
                        owner="network",vendor="Huawei",model="S12708",location="Machine room 1"} 1
        hospmon_ci_warranty_expiry_timestamp_seconds{ci="core-sw-1",service="network",...} 1.8048384e+09
        hospmon_ci_depends_on{ci="fw-intranet-1",service="network",...,depends_on="core-sw-1"} 1
        hospmon_inventory_cis{kind="switch",service="network"} 12
        hospmon_service_info{service="lis",name="LIS",tier="1",team="medtech"} 1
        hospmon_service_department_info{service="lis",department="ed"} 1
        hospmon_service_workflow_info{service="lis",workflow="order to result"} 1
        hospmon_department_info{department="ed",name="Emergency",criticality="critical",hours="24/7"} 1
    """
    yield from _ci_metrics(inv)
    yield from _map_metrics(inv)


def _ci_metrics(inv: Inventory) -> Iterator[Metric]:
    """Yield the per-CI series (identity, warranty, purchase, dependencies) and the counts by kind."""
    ci_info = InfoMetricFamily(
        "hospmon_ci",
        "A configuration item of the inventory.",
        labels=[*_CI_LABELS, "kind", "owner", "vendor", "model", "location"],
    )
    warranty = GaugeMetricFamily(
        "hospmon_ci_warranty_expiry_timestamp_seconds",
        "When the CI's warranty ends (end of its last day, local time).",
        labels=_CI_LABELS,
    )
    purchased = GaugeMetricFamily(
        "hospmon_ci_purchase_timestamp_seconds",
        "When the CI was bought (start of the day, local time).",
        labels=_CI_LABELS,
    )
    depends = GaugeMetricFamily(
        "hospmon_ci_depends_on", "The CI depends directly on another.", labels=[*_CI_LABELS, "depends_on"]
    )
    counts = GaugeMetricFamily(
        "hospmon_inventory_cis", "Configuration items by kind and service.", labels=["kind", "service"]
    )
    tz = inv.tz
    by_kind: Counter[tuple[str, str]] = Counter()
    for ci in inv.cis.values():
        labels = [ci.id, ci.service, inv.department_of(ci.id), str(inv.services[ci.service].tier)]
        ci_info.add_metric(
            [*labels, ci.kind.value, inv.owner_team(ci.id).id, ci.vendor, ci.model, ci.location], {}
        )
        if ci.warranty_end is not None:
            warranty.add_metric(labels, warranty_timestamp(ci.warranty_end, tz))
        if ci.purchased is not None:
            purchased.add_metric(labels, warranty_timestamp(ci.purchased, tz) - 86400)
        for dep in ci.depends_on:
            depends.add_metric([*labels, dep], 1)
        by_kind[(ci.kind.value, ci.service)] += 1
    for (kind, service), n in sorted(by_kind.items()):
        counts.add_metric([kind, service], n)
    yield from (ci_info, warranty, purchased, depends, counts)


def _map_metrics(inv: Inventory) -> Iterator[Metric]:
    """Yield the service map (services, the departments and workflows relying on them) and the departments."""
    service_info = InfoMetricFamily(
        "hospmon_service", "A service of the inventory.", labels=["service", "name", "tier", "team"]
    )
    # The service map, for status boards by department and by clinical workflow.
    service_department = InfoMetricFamily(
        "hospmon_service_department", "A department relies on a service.", labels=["service", "department"]
    )
    service_workflow = InfoMetricFamily(
        "hospmon_service_workflow", "A service carries a clinical workflow.", labels=["service", "workflow"]
    )
    department_info = InfoMetricFamily(
        "hospmon_department",
        "A department of the inventory.",
        labels=["department", "name", "criticality", "hours"],
    )
    for svc in inv.services.values():
        service_info.add_metric([svc.id, str(svc.name), str(svc.tier), svc.team], {})
        for dept_id in svc.departments:
            service_department.add_metric([svc.id, dept_id], {})
        for workflow in svc.workflows:
            service_workflow.add_metric([svc.id, workflow], {})
    for dept in inv.departments.values():
        department_info.add_metric(
            [dept.id, str(dept.name), dept.criticality.value, "24/7" if dept.hours is None else "scheduled"],
            {},
        )
    yield from (service_info, service_department, service_workflow, department_info)
