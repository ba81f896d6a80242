"""Inventory and warranties: what the hospital owns, where warranties end, which checks fail."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from panels import bars, graph, new_dashboard, number_panel, service_variable, table_panel

UID = "hospmon-inventory"


def build() -> dashboard.Dashboard:
    """The inventory dashboard."""
    return (
        new_dashboard(
            UID,
            "hospmon / Inventory and warranties",
            "Configuration items by kind and service, warranties ending, failing probes.",
        )
        .with_variable(service_variable("hospmon_ci_info"))
        .with_panel(
            number_panel(
                "Configuration items",
                "sum(hospmon_inventory_cis)",
                "Every CI in the inventory.",
                ((None, "blue"),),
            )
        )
        .with_panel(
            number_panel(
                "Warranties ending within 30 days",
                "count(hospmon:ci_warranty_remaining_days > 0 and hospmon:ci_warranty_remaining_days <= 30)"
                " or vector(0)",
                "CIs whose warranty ends within 30 days.",
                ((None, "green"), (1, "orange")),
            )
        )
        .with_panel(
            number_panel(
                "Out of warranty",
                "count(hospmon:ci_warranty_remaining_days <= 0) or vector(0)",
                "CIs past their warranty end.",
                ((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            number_panel(
                "Failing probes",
                "count(hospmon_probe_success == 0) or vector(0)",
                "Probe modules failing now.",
                ((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            bars("Items by kind", "sum by (kind) (hospmon_inventory_cis)", "{{kind}}", "CIs by kind.")
        )
        .with_panel(
            bars(
                "Items by service",
                "sum by (service) (hospmon_inventory_cis)",
                "{{service}}",
                "CIs by service.",
            )
        )
        .with_panel(
            table_panel(
                "Warranty days left (ending within 180 days)",
                'sort(hospmon:ci_warranty_remaining_days{service=~"$service"} < 180)'
                " * on (ci) group_left (kind, vendor, model, location, owner) hospmon_ci_info",
                "CIs whose warranty ends within 180 days or has ended (negative), with vendor and location.",
                ["Time", "__name__", "job", "instance", "tier"],
            )
        )
        .with_panel(
            graph(
                "Scrape targets up by job",
                "sum by (job) (up) / count by (job) (up)",
                "{{job}}",
                "Share of each job's targets that Prometheus reaches.",
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Probe success by service",
                'avg by (service) (hospmon_probe_success{service=~"$service"})',
                "{{service}}",
                "Share of each service's probe modules that pass.",
                unit="percentunit",
            )
        )
    )
