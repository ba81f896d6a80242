"""The hospital IT status board: is each clinical workflow, department and service working, at a glance.

Built from the inventory's service map as the inventory exporter serves it (hospmon_service_workflow_info,
hospmon_service_department_info, hospmon_department_info, hospmon_service_info), joined with every check
Prometheus holds (hospmon_probe_success, and `up` where no probe verdict exists). Works for any inventory:
nothing here names a department or a workflow.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from panels import (
    CHECKS,
    SERVICE_HEALTH,
    new_dashboard,
    number_panel,
    state_panel,
    table_panel,
)

UID = "hospmon-status"

WORKFLOWS = (
    f"min by (workflow) (hospmon_service_workflow_info * on (service) group_left () ({SERVICE_HEALTH}))"
    " or on (workflow) (max by (workflow) (hospmon_service_workflow_info) * -1)"
)
DEPARTMENTS = (
    f"min by (department) (hospmon_service_department_info * on (service) group_left () ({SERVICE_HEALTH}))"
    " or on (department) (max by (department) (hospmon_department_info) * -1)"
)
SERVICES = f"{SERVICE_HEALTH} or on (service) (max by (service) (hospmon_service_info) * -1)"

CRITICALITIES = (
    ("critical", "Critical departments"),
    ("high", "High-criticality departments"),
    ("normal", "Normal departments"),
    ("low", "Low-criticality departments"),
)


def build() -> dashboard.Dashboard:
    """The status board."""
    board = new_dashboard(
        UID,
        "hospmon / Hospital IT status board",
        "Is each clinical workflow, department and IT service working? Green working, orange degraded "
        "(some checks fail), red down, grey not monitored.",
    )
    board = (
        board.with_row(dashboard.Row("The hospital now"))
        .with_panel(
            number_panel(
                "Clinical workflows not fully working",
                f"count(({WORKFLOWS}) >= 0 < 1) or vector(0)",
                "Workflows with at least one failing check in a service that carries them.",
                ((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            number_panel(
                "Critical alerts firing",
                'count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)',
                "Alerts with severity critical that Prometheus is firing now.",
                ((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            number_panel(
                "Warnings firing",
                'count(ALERTS{alertstate="firing", severity="warning"}) or vector(0)',
                "Alerts with severity warning that Prometheus is firing now.",
                ((None, "green"), (1, "orange")),
            )
        )
        .with_panel(
            number_panel(
                "Checks passing",
                f"avg({CHECKS})",
                "Share of all probes and scrape targets that pass.",
                ((None, "red"), (0.95, "orange"), (1, "green")),
                unit="percentunit",
            )
        )
        .with_panel(
            state_panel(
                "Clinical workflows",
                WORKFLOWS,
                "{{workflow}}",
                "Each workflow is as healthy as the least healthy service that carries it "
                "(services' `workflows` in the inventory).",
                height=8,
            )
        )
        .with_row(dashboard.Row("Departments, by clinical criticality"))
    )
    for criticality, title in CRITICALITIES:
        board = board.with_panel(
            state_panel(
                title,
                f"({DEPARTMENTS}) * on (department) group_left (name) "
                f'hospmon_department_info{{criticality="{criticality}"}}',
                "{{name}}",
                f"Departments of criticality {criticality} in the inventory; each is as healthy as the least "
                "healthy service it relies on (services' `departments`).",
                height=5,
            )
        )
    return (
        board.with_row(dashboard.Row("IT services"))
        .with_panel(
            state_panel(
                "Services",
                f"({SERVICES}) * on (service) group_left (name) hospmon_service_info",
                "{{name}}",
                "Share of each service's checks that pass.",
                height=5,
            )
        )
        .with_row(dashboard.Row("What is failing"))
        .with_panel(
            table_panel(
                "Failing checks",
                f"(({CHECKS}) == 0) * on (ci) group_left (kind, owner, location) hospmon_ci_info",
                "Every probe or scrape target failing now, with the CI's kind, owner team and location.",
                ["Time", "Value", "__name__", "instance", "tier", "__param_auth"],
                span=12,
            )
        )
        .with_panel(
            table_panel(
                "Alerts firing",
                'ALERTS{alertstate="firing"}',
                "Every alert Prometheus is firing now; the router's console shows the incidents and owners.",
                ["Time", "Value", "__name__", "alertstate", "instance", "job", "tier"],
                span=12,
            )
        )
    )
