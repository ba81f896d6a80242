"""hospmon-lis-exporter: HL7 v2 interfaces of the laboratory over MLLP, and the LIS database through SQL."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.cli import serve
from exporters.core.policy import Access, Checked, check_policy
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeFailed, ProbeRequest
from exporters.core.target import host_port
from exporters.database.drivers import Target
from exporters.database.engine import SqlEngine
from exporters.database.targets import named_targets, read_passwords
from exporters.lis.config import LisConfig, MllpModule, SqlModule, load_config
from exporters.lis.message import Ack, AckError, control_id, parse_ack, synthetic_message
from exporters.lis.mllp import Exchange, exchange
from hospmon.phi import RefusalTally


def mllp_metrics(spec: MllpModule, ack: Ack, result: Exchange) -> list[Metric]:
    """Return the families of one MLLP exchange; MSA-3 text is left out, as it may name a patient.

    Sample::

        hospmon_mllp_ack{code="AA",message_type="ADT^A01"} 1
        hospmon_mllp_connect_seconds 0.0004
        hospmon_mllp_round_trip_seconds 0.012
    """
    code = GaugeMetricFamily(
        "hospmon_mllp_ack",
        "The acknowledgement code (MSA-1) the interface answered the probe's message with.",
        labels=["code", "message_type"],
    )
    code.add_metric([ack.code, spec.message_type], 1.0)
    connect = GaugeMetricFamily("hospmon_mllp_connect_seconds", "Time to open the TCP connection.")
    connect.add_metric([], result.connect_seconds)
    rtt = GaugeMetricFamily(
        "hospmon_mllp_round_trip_seconds", "Time from sending the message to the end of the acknowledgement."
    )
    rtt.add_metric([], result.round_trip_seconds)
    return [code, connect, rtt]


def probe_mllp(host: str, port: int, spec: MllpModule, deadline: Deadline) -> list[Metric]:
    """Send the module's synthetic message and check its acknowledgement; failures raise `ProbeFailed`."""
    control = control_id()
    payload = synthetic_message(spec, control).encode(spec.encoding)
    result = exchange(host, port, payload, spec.timeout_seconds, deadline, spec.max_ack_bytes)
    try:
        ack = parse_ack(result.payload.decode(spec.encoding, errors="replace"))
    except AckError as exc:
        raise ProbeFailed("bad_response", str(exc)) from exc
    if ack.control_id != control:
        raise ProbeFailed("bad_response", "MSA-2 does not echo the message control id")
    metrics = mllp_metrics(spec, ack, result)
    if not ack.positive:
        raise ProbeFailed("rejected", f"negative acknowledgement {ack.code}", metrics=metrics)
    return metrics


@dataclass
class LoadedLis:
    """A checked config with its database targets and the SQL engine holding their pools."""

    config: LisConfig
    targets: dict[str, Target]
    access: Access = field(default_factory=Access)
    engine: SqlEngine = field(default_factory=SqlEngine)


def read_lis(path: Path | None) -> Checked[LisConfig]:
    """Load and check the config file and the allow-list."""
    config = load_config(path)
    assert path is not None
    return check_policy(config, path, "lis")


def build_lis(read: Checked[LisConfig], path: Path, tally: RefusalTally | None = None) -> LoadedLis:
    """Read every database password the config names and make the targets and the SQL engine."""
    database = read.config.database_config()
    access = read.access.access(tally)
    targets = named_targets(database, read_passwords(database, path))
    return LoadedLis(read.config, targets, access, SqlEngine(guard=access.guard))


def load_lis(path: Path | None, tally: RefusalTally | None = None) -> LoadedLis:
    """Load the config and read every database password it names."""
    read = read_lis(path)
    assert path is not None
    return build_lis(read, path, tally)


def probe_sql(loaded: LoadedLis, target: Target, spec: SqlModule, deadline: Deadline) -> list[Metric]:
    """Run the module's queries on the LIS database; fail only when every query failed.

    Besides the queries' own families, per query::

        hospmon_lis_query_success{query="turnaround"} 1
        hospmon_lis_query_duration_seconds{query="turnaround"} 0.004
    """
    metrics, failures = loaded.engine.run_queries(target, spec.queries, deadline, prefix="hospmon_lis")
    if failures and len(failures) == len(spec.queries):
        raise ProbeFailed(failures[0].reason, failures[0].detail)
    return metrics


class LisExporter(Exporter[LoadedLis]):
    """Probe HL7 v2 interfaces (``target=HOST:PORT&module=mllp``) and LIS databases (``target=lis-db``)."""

    name = "lis"
    default_port = 9107
    description = "HL7 v2 interfaces of the laboratory over MLLP, and the LIS database through SQL."
    default_module = "mllp"

    def read_config(self, path: Path | None) -> Checked[LisConfig]:
        """Load and check the config file and the allow-list."""
        return read_lis(path)

    def build(self, read: Checked[LisConfig], path: Path | None) -> LoadedLis:
        """Read the passwords the config names and make the targets and the SQL engine."""
        assert path is not None
        return build_lis(read, path, self.refusals)

    def module_names(self, config: LoadedLis) -> Collection[str]:
        """Return the configured modules."""
        return config.config.modules.keys()

    def check_request(self, config: LoadedLis, request: ProbeRequest) -> None:
        """Refuse unknown modules, and targets that are not host:port (MLLP) or a connection name (SQL)."""
        super().check_request(config, request)
        kinds = {config.config.modules[m].prober for m in request.modules}
        if kinds == {"mllp", "sql"}:
            raise BadRequest("MLLP modules take HOST:PORT, SQL modules a connection: probe them apart")
        if "sql" in kinds:
            if request.target not in config.targets:
                known = ", ".join(sorted(config.targets)) or "none configured"
                raise BadRequest(f"target {request.target!r} is not a connection; known: {known}")
        else:
            host, _ = host_port(request.target)
            config.access.check(request.target, request.modules, None, host)

    def probe_module(
        self, config: LoadedLis, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Probe the target's MLLP interface or run the module's queries on the target database."""
        spec = config.config.modules[module]
        if isinstance(spec, SqlModule):
            return probe_sql(config, config.targets[request.target], spec, deadline)
        host, port = host_port(request.target)
        return probe_mllp(host, port, spec, deadline)

    def close(self, config: LoadedLis) -> None:
        """Close the pooled database connections of a replaced config."""
        config.engine.close()


def main(argv: list[str] | None = None) -> int:
    """Run the LIS exporter."""
    return serve(LisExporter(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
