"""Tomcat through its manager's JMX proxy: heap, GC, request threads, request errors, JDBC pools, sessions.

Sample (module ``tomcat``; connector, context and pool names as Tomcat gives them)::

    hospmon_tomcat_info{module="tomcat",server="Apache Tomcat/10.1.60 (Debian)",version="10.1.60"} 1
    hospmon_tomcat_jvm_memory_used_bytes{module="tomcat",area="heap"} 5.1e+07
    hospmon_tomcat_jvm_memory_max_bytes{module="tomcat",area="heap"} 2.6e+08
    hospmon_tomcat_jvm_gc_collections_total{module="tomcat",gc="G1 Young Generation"} 42
    hospmon_tomcat_jvm_gc_duration_seconds_total{module="tomcat",gc="G1 Young Generation"} 0.31
    hospmon_tomcat_threads_busy{module="tomcat",connector="http-nio-8080"} 3
    hospmon_tomcat_threads_max{module="tomcat",connector="http-nio-8080"} 200
    hospmon_tomcat_requests_total{module="tomcat",connector="http-nio-8080"} 91231
    hospmon_tomcat_request_errors_total{module="tomcat",connector="http-nio-8080"} 12
    hospmon_tomcat_jdbc_connections_active{module="tomcat",context="/his",pool="jdbc/his"} 7
    hospmon_tomcat_jdbc_connections_max{module="tomcat",context="/his",pool="jdbc/his"} 20
    hospmon_tomcat_sessions_active{module="tomcat",context="/his"} 118

Pools of both of Tomcat's implementations are read: DBCP (the default factory) and the Tomcat JDBC pool
(``factory="org.apache.tomcat.jdbc.pool.DataSourceFactory"``, with ``jmxEnabled`` on, as by default).
"""

from __future__ import annotations

import re

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from exporters.core.http import session_metrics
from exporters.middleware.jmxproxy import JmxProxy, MBean
from exporters.middleware.request import ModuleProbe

_VERSION = re.compile(r"/(\d+(?:\.\d+)+)")
POOL_ATTRIBUTES = {
    # DBCP (Catalina:type=DataSource) and the Tomcat JDBC pool (tomcat.jdbc:type=ConnectionPool).
    "active": ("numActive", "NumActive"),
    "idle": ("numIdle", "NumIdle"),
    "max": ("maxTotal", "MaxActive", "maxActive"),
}


def _gauge(name: str, help_text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"hospmon_tomcat_{name}", help_text, labels=["module", *labels])


def _counter(name: str, help_text: str, labels: list[str]) -> CounterMetricFamily:
    return CounterMetricFamily(f"hospmon_tomcat_{name}", help_text, labels=["module", *labels])


def _add(family: GaugeMetricFamily | CounterMetricFamily, labels: list[str], value: float | None) -> None:
    if value is not None:
        family.add_metric(labels, value)


def _memory(module: str, beans: list[MBean]) -> list[Metric]:
    kinds = {
        k: _gauge(f"jvm_memory_{k}_bytes", f"JVM memory {k}, by area.", ["area"])
        for k in ("used", "committed", "max")
    }
    for bean in beans:
        for area, attribute in (("heap", "HeapMemoryUsage"), ("nonheap", "NonHeapMemoryUsage")):
            usage = bean.composite(attribute)
            for kind, family in kinds.items():
                value = usage.get(kind)
                _add(family, [module, area], value if value is None or value >= 0 else None)
    return list(kinds.values())


def _gc(module: str, beans: list[MBean]) -> list[Metric]:
    count = _counter("jvm_gc_collections", "Garbage collections, by collector.", ["gc"])
    time = _counter("jvm_gc_duration_seconds", "Time spent in garbage collection, by collector.", ["gc"])
    for bean in beans:
        gc = bean.keys.get("name", "")
        _add(count, [module, gc], bean.number("CollectionCount"))
        millis = bean.number("CollectionTime")
        _add(time, [module, gc], None if millis is None else millis / 1000)
    return [count, time]


def _threads(module: str, beans: list[MBean]) -> list[Metric]:
    specs = {
        "currentThreadsBusy": _gauge("threads_busy", "Request threads busy, by connector.", ["connector"]),
        "currentThreadCount": _gauge("threads", "Request threads started, by connector.", ["connector"]),
        "maxThreads": _gauge("threads_max", "Most request threads a connector may start.", ["connector"]),
        "connectionCount": _gauge("connections", "Connections open, by connector.", ["connector"]),
        "maxConnections": _gauge("connections_max", "Most connections a connector accepts.", ["connector"]),
    }
    for bean in beans:
        connector = bean.keys.get("name", "")
        for attribute, family in specs.items():
            value = bean.number(attribute)
            _add(family, [module, connector], value if value is None or value >= 0 else None)
    return list(specs.values())


def _requests(module: str, beans: list[MBean]) -> list[Metric]:
    requests = _counter("requests", "Requests served, by connector.", ["connector"])
    errors = _counter("request_errors", "Requests answered with a status of 400 or more.", ["connector"])
    seconds = _counter("request_processing_seconds", "Time spent processing requests.", ["connector"])
    sent = _counter("sent_bytes", "Bytes sent, by connector.", ["connector"])
    received = _counter("received_bytes", "Bytes received, by connector.", ["connector"])
    for bean in beans:
        labels = [module, bean.keys.get("name", "")]
        _add(requests, labels, bean.number("requestCount"))
        _add(errors, labels, bean.number("errorCount"))
        millis = bean.number("processingTime")
        _add(seconds, labels, None if millis is None else millis / 1000)
        _add(sent, labels, bean.number("bytesSent"))
        _add(received, labels, bean.number("bytesReceived"))
    return [requests, errors, seconds, sent, received]


def _pools(module: str, beans: list[MBean]) -> list[Metric]:
    families = {
        "active": _gauge("jdbc_connections_active", "JDBC pool connections in use.", ["context", "pool"]),
        "idle": _gauge("jdbc_connections_idle", "JDBC pool connections idle.", ["context", "pool"]),
        "max": _gauge("jdbc_connections_max", "Most connections the pool may open.", ["context", "pool"]),
    }
    seen: set[tuple[str, str]] = set()
    for bean in beans:
        key = (bean.keys.get("context", ""), bean.keys.get("name", ""))
        # One pool may show under both domains (count it once); both pools add a bean per pooled connection
        # (keys connectionpool=, connection=, connections=) which are not the pool.
        if key in seen or any(k.startswith("connection") for k in bean.keys):
            continue
        seen.add(key)
        for what, family in families.items():
            value = next((v for a in POOL_ATTRIBUTES[what] if (v := bean.number(a)) is not None), None)
            # A negative maximum means "no limit": such a pool cannot run out, so it gets no maximum.
            _add(family, [module, *key], value if value is None or value >= 0 else None)
    return list(families.values())


def _sessions(module: str, beans: list[MBean]) -> list[Metric]:
    sessions = _gauge("sessions_active", "HTTP sessions active, by web application.", ["context"])
    for bean in beans:
        _add(sessions, [module, bean.keys.get("context", "")], bean.number("activeSessions"))
    return [sessions]


def _info(module: str, beans: list[MBean]) -> list[Metric]:
    info = _gauge("info", "The Tomcat server and its version.", ["server", "version"])
    for bean in beans:
        server = bean.attributes.get("serverInfo", "")[:64]
        found = _VERSION.search(server)
        info.add_metric([module, server, found[1] if found else ""], 1)
    return [info]


def tomcat_metrics(probe: ModuleProbe) -> list[Metric]:
    """Query the JMX proxy once per kind of MBean and return the module's families."""
    proxy = JmxProxy(probe)
    module, deadline, domain = probe.module, probe.deadline, probe.spec.tomcat_spec().domain
    out: list[Metric] = []
    out += _info(module, proxy.query(f"{domain}:type=Server", frozenset({"serverInfo"}), deadline))
    memory = proxy.query(
        "java.lang:type=Memory", frozenset({"HeapMemoryUsage", "NonHeapMemoryUsage"}), deadline
    )
    out += _memory(module, memory)
    gc = proxy.query(
        "java.lang:type=GarbageCollector,*", frozenset({"CollectionCount", "CollectionTime"}), deadline
    )
    out += _gc(module, gc)
    thread_attributes = frozenset(
        {"currentThreadsBusy", "currentThreadCount", "maxThreads", "connectionCount", "maxConnections"}
    )
    out += _threads(module, proxy.query(f"{domain}:type=ThreadPool,*", thread_attributes, deadline))
    request_attributes = frozenset(
        {"requestCount", "errorCount", "processingTime", "bytesSent", "bytesReceived"}
    )
    out += _requests(
        module, proxy.query(f"{domain}:type=GlobalRequestProcessor,*", request_attributes, deadline)
    )
    pool_attributes = frozenset(a for names in POOL_ATTRIBUTES.values() for a in names)
    pools = proxy.query("tomcat.jdbc:type=ConnectionPool,*", pool_attributes, deadline)
    pools += proxy.query(f"{domain}:type=DataSource,*", pool_attributes, deadline)
    out += _pools(module, pools)
    manager = proxy.query(f"{domain}:type=Manager,*", frozenset({"activeSessions"}), deadline)
    out += _sessions(module, manager)
    if proxy.first is not None:
        out += session_metrics(module, proxy.first)
    return out
