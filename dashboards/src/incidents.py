"""Incidents and workload, from the alert router's /metrics (alertrouter/metrics.py, alertrouter/state.py).

The router computes its incident figures from the store at each scrape, so every replica reports the same
numbers: aggregate with max, not sum, across replicas. The router is scraped as a `native` target of the
inventory (a CI with `monitor: [{exporter: native, modules: [metrics]}]`), so no job name is assumed.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as model
from panels import bars, graph, new_dashboard, number_panel, table_panel

UID = "hospmon-incidents"


def build() -> dashboard.Dashboard:
    """The incidents and workload dashboard."""
    return (
        new_dashboard(
            UID,
            "hospmon / Incidents and workload",
            "Open incidents by priority and team, times to acknowledge and resolve, intake and notification "
            "health, and on-call gaps, from the alert router.",
        )
        .with_row(dashboard.Row("Open incidents"))
        .with_panel(
            number_panel(
                "Open incidents by priority",
                "sum by (priority) (max by (priority, team) (hospmon_router_incidents_open))",
                "Triggered or acknowledged incidents, by clinical-impact priority.",
                ((None, "green"), (1, "orange")),
                legend="{{priority}}",
                span=12,
            )
        )
        .with_panel(
            number_panel(
                "Router store",
                "min(hospmon_router_store_up)",
                "Whether every router replica reached its database at the last scrape.",
                ((None, "red"), (1, "green")),
                span=6,
            )
        )
        .with_panel(
            number_panel(
                "Teams with an on-call gap ahead",
                "count(max by (team) (hospmon_router_oncall_gap_timestamp_seconds) > 0) or vector(0)",
                "Teams that will have nobody on call within the router's look-ahead horizon.",
                ((None, "green"), (1, "red")),
                span=6,
            )
        )
        .with_panel(
            bars(
                "Open incidents by team",
                "sum by (team) (max by (priority, team) (hospmon_router_incidents_open))",
                "{{team}}",
                "The workload each owning team carries now.",
            )
        )
        .with_panel(
            graph(
                "Open incidents over time",
                "sum by (priority) (max by (priority, team) (hospmon_router_incidents_open))",
                "{{priority}}",
                "Open incidents by priority.",
            )
        )
        .with_row(dashboard.Row("Response"))
        .with_panel(
            bars(
                "Mean time to acknowledge by team",
                "sum by (team) (max by (team, priority) (hospmon_router_mtta_seconds_sum))"
                " / sum by (team) (max by (team, priority) (hospmon_router_mtta_seconds_count))",
                "{{team}}",
                "Since the store began: from opening an incident to its acknowledgement.",
                unit="s",
                span=8,
            )
        )
        .with_panel(
            bars(
                "90th percentile time to acknowledge by priority",
                "histogram_quantile(0.9, sum by (priority, le) "
                "(max by (team, priority, le) (hospmon_router_mtta_seconds_bucket)))",
                "{{priority}}",
                "Since the store began; the buckets run from 1 minute to 1 day.",
                unit="s",
                span=8,
            )
        )
        .with_panel(
            bars(
                "Mean time to resolve by team",
                "sum by (team) (max by (team, priority) (hospmon_router_mttr_seconds_sum))"
                " / sum by (team) (max by (team, priority) (hospmon_router_mttr_seconds_count))",
                "{{team}}",
                "Since the store began: from opening an incident to its resolution.",
                unit="s",
                span=8,
            )
        )
        .with_row(dashboard.Row("Intake and notifications"))
        .with_panel(
            graph(
                "Alerts received by outcome",
                "sum by (outcome) (rate(hospmon_router_alerts_received_total[$__rate_interval]))",
                "{{outcome}}",
                "Alerts from Alertmanager per second, summed over the router replicas.",
                unit="reqps",
            )
        )
        .with_panel(
            graph(
                "Webhook deliveries by status",
                "sum by (code) (rate(hospmon_router_webhook_requests_total[$__rate_interval]))",
                "{{code}}",
                "Deliveries answered per second; 503 means the store failed and Alertmanager retries.",
                unit="reqps",
            )
        )
        .with_panel(
            bars(
                "Failed notification attempts by channel",
                "max by (channel) (hospmon_router_notification_failures_total)",
                "{{channel}}",
                "Since the store began; the router retries each failed notification.",
            )
        )
        .with_panel(
            table_panel(
                "Next on-call gap by team",
                "max by (team) (hospmon_router_oncall_gap_timestamp_seconds) * 1000",
                "When each team first has nobody on call (0: no gap within the horizon).",
                ["Time"],
                span=12,
            )
            .unit("dateTimeAsIso")
            .mappings([model.ValueMap(options={"0": model.ValueMappingResult(text="no gap", color="green")})])
        )
    )
