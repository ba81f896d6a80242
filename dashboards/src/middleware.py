"""Middleware: the application servers, message brokers and interface engines the clinical systems run on,
and which services run on each (the inventory's depends_on)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from panels import graph, new_dashboard, service_variable, table_panel

UID = "hospmon-middleware"
S = 'service=~"$service"'
# The middleware CIs: whatever reports a Tomcat, a broker or an engine, by ci.
MIDDLEWARE = "max by (ci) (hospmon_tomcat_info or rabbitmq_build_info or hospmon_engine_info)"


def build() -> dashboard.Dashboard:
    """The middleware dashboard."""
    return (
        new_dashboard(
            UID,
            "hospmon / Middleware",
            "Tomcat application servers, RabbitMQ brokers and interface engines, and the services on them.",
        )
        .with_variable(service_variable("hospmon_ci_info"))
        .with_panel(
            table_panel(
                "Services running on middleware",
                "max by (ci, service, depends_on) (hospmon_ci_depends_on * on (depends_on) group_left ()"
                f' label_replace({MIDDLEWARE}, "depends_on", "$1", "ci", "(.*)"))',
                "The CIs (and their services) that depend on each monitored application server, broker or "
                "engine, from the inventory: who is hurt when one of them fails.",
                ["Time", "Value"],
            )
        )
        .with_panel(
            graph(
                "Tomcat heap used of maximum",
                f'hospmon_tomcat_jvm_memory_used_bytes{{area="heap",{S}}}'
                f' / hospmon_tomcat_jvm_memory_max_bytes{{area="heap",{S}}}',
                "{{ci}}",
                "Java heap in use as a share of -Xmx; near 1 for long means OutOfMemoryError is close.",
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Tomcat time in garbage collection",
                f"sum by (ci) (rate(hospmon_tomcat_jvm_gc_duration_seconds_total{{{S}}}[$__rate_interval]))",
                "{{ci}}",
                "Share of wall time the JVM spends collecting garbage (all collectors).",
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Tomcat request threads busy of maximum",
                f"hospmon_tomcat_threads_busy{{{S}}} / hospmon_tomcat_threads_max{{{S}}}",
                "{{ci}} {{connector}}",
                "Busy request threads as a share of maxThreads, by connector.",
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Tomcat JDBC pool connections in use of maximum",
                f"hospmon_tomcat_jdbc_connections_active{{{S}}} / hospmon_tomcat_jdbc_connections_max{{{S}}}",
                "{{ci}} {{context}} {{pool}}",
                "Connections lent out as a share of the pool's maximum; at 1 requests wait and then fail.",
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Tomcat requests and errors per second",
                f"sum by (ci) (rate(hospmon_tomcat_requests_total{{{S}}}[$__rate_interval]))"
                f" or label_replace(sum by (ci) (rate(hospmon_tomcat_request_errors_total{{{S}}}"
                '[$__rate_interval])), "ci", "$1 errors", "ci", "(.*)")',
                "{{ci}}",
                "Requests served, and those answered 4xx or 5xx, per second.",
                unit="reqps",
            )
        )
        .with_panel(
            graph(
                "RabbitMQ messages ready by queue",
                f"rabbitmq_queue_messages_ready{{{S}}}",
                "{{ci}} {{queue}}",
                "Messages waiting for a consumer, by queue (per-queue metrics of the Prometheus plugin).",
            )
        )
        .with_panel(
            table_panel(
                "RabbitMQ consumers by queue",
                f"rabbitmq_queue_consumers{{{S}}}",
                "Consumers attached to each queue; a queue with messages and no consumer is not being read.",
                ["Time", "__name__", "job", "instance", "tier", "department"],
            )
        )
        .with_panel(
            graph(
                "Interface engine queued messages by channel",
                f"hospmon_engine_channel_queued_messages{{{S}}}",
                "{{ci}} {{channel}}",
                "Messages waiting in each channel's queues for the receiving system.",
            )
        )
        .with_panel(
            graph(
                "Interface engine messages received per minute",
                f"rate(hospmon_engine_channel_received_messages_total{{{S}}}[$__rate_interval]) * 60",
                "{{ci}} {{channel}}",
                "Messages each channel takes in per minute.",
            )
        )
        .with_panel(
            table_panel(
                "Interface channels: minutes since the last message",
                f"(time() - hospmon_engine_channel_last_message_timestamp_seconds{{{S}}}) / 60",
                "How long ago each channel last received a message; a started channel silent in clinic "
                "hours means its sender has stopped.",
                ["Time", "__name__", "job", "instance", "tier", "department", "module"],
            )
        )
        .with_panel(
            table_panel(
                "Interface channels not started",
                f"hospmon_engine_channel_state{{{S}}} * on (ci, module, channel) group_left ()"
                f" (hospmon_engine_channel_up{{{S}}} == 0)",
                "Channels stopped, paused or in another state than started, with the state.",
                ["Time", "Value", "__name__", "job", "instance", "tier", "department"],
            )
        )
    )
