"""What every generated hospmon dashboard shares: the datasource, queries and a few panel shapes."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
GENERATED = "Generated from dashboards/src/ by `make dashboards`; edit the code there, not this JSON."

# One check per scrape target and probe module: a probe's own verdict where the exporter answered, else
# whether Prometheus reached the target at all (a native target, or an exporter that is down).
CHECKS = "hospmon_probe_success or on (ci, job, instance) up"
SERVICE_HEALTH = f"avg by (service) ({CHECKS})"

# A state value on the status board: 1 working, between 0 and 1 degraded, 0 down, -1 not monitored.
STATE_MAPPINGS: list[model.ValueMapping] = [
    model.ValueMap(
        options={
            "1": model.ValueMappingResult(text="Working", color="green", index=0),
            "0": model.ValueMappingResult(text="Down", color="red", index=1),
            "-1": model.ValueMappingResult(text="Not monitored", color="text", index=2),
        }
    ),
    model.RangeMap(
        options=model.DashboardRangeMapOptions(
            from_val=0.0001,
            to=0.9999,
            result=model.ValueMappingResult(text="Degraded", color="orange", index=3),
        )
    ),
]


def query(expr: str, legend: str = "", *, instant: bool = False, table_format: bool = False) -> Any:
    """A Prometheus query on the dashboard's datasource."""
    q = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant()
    if table_format:
        q = q.format(prometheus_model.PromQueryFormat.TABLE)
    return q


def _last() -> common_builders.ReduceDataOptions:
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds from (value, colour) pairs, the first value None."""
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


def state_panel(title: str, expr: str, legend: str, description: str, height: int, span: int = 24) -> Any:
    """A row of coloured tiles, one per series, each saying Working, Degraded, Down or Not monitored."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend, instant=True))
        .reduce_options(_last())
        .mappings(STATE_MAPPINGS)
        .thresholds(thresholds((None, "red"), (0.0001, "orange"), (1, "green")))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .height(height)
        .span(span)
    )


def number_panel(
    title: str,
    expr: str,
    description: str,
    steps: tuple[tuple[float | None, str], ...],
    *,
    legend: str = "",
    unit: str = "none",
    span: int = 6,
    height: int = 4,
) -> Any:
    """One big number (or one per series) with coloured thresholds."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend, instant=True))
        .reduce_options(_last())
        .unit(unit)
        .thresholds(thresholds(*steps))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .height(height)
        .span(span)
    )


def bars(title: str, expr: str, legend: str, description: str, *, unit: str = "none", span: int = 12) -> Any:
    """Horizontal bars, one per series."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend, instant=True))
        .reduce_options(_last())
        .unit(unit)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .thresholds(thresholds((None, "blue")))
        .height(8)
        .span(span)
    )


def table_panel(title: str, expr: str, description: str, hidden: list[str], *, span: int = 24) -> Any:
    """An instant query as a table, without the columns in `hidden`."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, instant=True, table_format=True))
        .with_transformation(
            model.DataTransformerConfig(
                id_val="organize", options={"excludeByName": dict.fromkeys(hidden, True)}
            )
        )
        .height(8)
        .span(span)
    )


def graph(title: str, expr: str, legend: str, description: str, *, unit: str = "none", span: int = 12) -> Any:
    """A time series over the dashboard's range."""
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(query(expr, legend))
        .unit(unit)
        .height(8)
        .span(span)
    )


def service_variable(metric: str) -> dashboard.QueryVariable:
    """The `service` variable: every service that `metric` has series for, all of them by default."""
    return (
        dashboard.QueryVariable("service")
        .label("Service")
        .datasource(DATASOURCE)
        .query(f"label_values({metric}, service)")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .multi(True)
        .all_value(".*")
        .current(model.VariableOption(selected=True, text="All", value="$__all"))
    )


def new_dashboard(uid: str, title: str, description: str) -> dashboard.Dashboard:
    """A dashboard with hospmon's tags, refresh, time range and datasource variable."""
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(f"{description} {GENERATED}")
        .tags(["hospmon"])
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("browser")
        .editable()
        .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )


def render(board: dashboard.Dashboard) -> str:
    """The dashboard as the JSON text checked into git: stable key order, panels numbered, refIds set."""
    data: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    for number, panel in enumerate(data["panels"], start=1):
        panel["id"] = number
        for index, target in enumerate(panel.get("targets", [])):
            target["refId"] = chr(ord("A") + index)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
