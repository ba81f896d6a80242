"""hospmon-his-exporter: web/API probes and business SQL probes of the hospital information system.

``/probe?target=https://his.example&module=web`` runs the core HTTP probe (`exporters.core.http`);
``/probe?target=his-db&module=business`` runs the module's queries through the database exporter's SQL engine
(pooled read-only sessions, server-side timeouts within the scrape deadline, the label guard). Sample::

    hospmon_his_outpatient_registrations{clinic_type="general"} 42
    hospmon_his_waiting_patients{clinic="internal-med"} 17
    hospmon_his_query_success{query="registrations"} 1
    hospmon_his_query_duration_seconds{query="registrations"} 0.0021
    hospmon_his_query_failure{query="settlements",reason="timeout"} 1   # only for a failed query

Only aggregates leave the HIS: every label column of a query is held to an allow-list or pattern, and values
shaped like ID numbers or phone numbers are refused whatever the rules say.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client.metrics_core import Metric

from exporters.core.cli import serve
from exporters.core.http import http_metrics, http_probe
from exporters.core.httpconfig import check_target, target_url
from exporters.core.policy import Access, Checked, check_policy
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeFailed, ProbeRequest
from exporters.database.drivers import Target
from exporters.database.engine import SqlEngine
from exporters.database.targets import adhoc_target, named_targets, read_passwords
from exporters.his.config import HisConfig, load_his_config
from hospmon.config import ConfigError

METRIC_PREFIX = "hospmon_his"


@dataclass
class LoadedHis:
    """A validated config with its database passwords, named targets and the engine holding their pools."""

    config: HisConfig
    file: Path
    passwords: dict[str, str] = field(repr=False)
    targets: dict[str, Target]
    access: Access
    engine: SqlEngine

    def sql_target(self, request: ProbeRequest) -> Target:
        """Resolve a sql module's target: a connection name, or a listed ``HOST:PORT`` with ``auth=``."""
        named = self.targets.get(request.target)
        if named is not None:
            return named
        return adhoc_target(self.config.database, self.passwords, request, self.access)


class HisExporter(Exporter[LoadedHis]):
    """Probe a HIS: web/API modules take a URL target, sql modules a database connection."""

    name = "his"
    default_port = 9105
    description = "Web/API and business SQL probes of the hospital information system (HIS)."

    def read_config(self, path: Path | None) -> Checked[HisConfig]:
        """Load and check the config file, its references and the secrets of its HTTP auths."""
        if path is None:
            raise ConfigError.single("--config.file", "give the HIS exporter's config file")
        return check_policy(load_his_config(path), path, self.name)

    def build(self, read: Checked[HisConfig], path: Path | None) -> LoadedHis:
        """Read the database passwords (failing early), name the targets and make the SQL engine."""
        assert path is not None
        config = read.config
        passwords = read_passwords(config.database, path)
        access = read.access.access(self.refusals)
        targets = named_targets(config.database, passwords)
        return LoadedHis(config, path, passwords, targets, access, SqlEngine(guard=access.guard))

    def module_names(self, config: LoadedHis) -> Collection[str]:
        """Return the configured modules."""
        return config.config.modules.keys()

    def check_request(self, config: LoadedHis, request: ProbeRequest) -> None:
        """Refuse unknown modules, and targets that do not fit the kind of the modules asked for."""
        super().check_request(config, request)
        kinds = {config.config.modules[m].kind for m in request.modules}
        if kinds == {"http", "sql"}:
            raise BadRequest("http and sql modules take different targets; probe them separately")
        if "http" in kinds:
            problem = check_target(request.target)
            if problem:
                raise BadRequest(problem)
            config.access.check(request.target, request.modules, None, urlsplit(request.target).hostname)
        else:
            config.sql_target(request)

    def probe_module(
        self, config: LoadedHis, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Run one module against the target."""
        spec = config.config.modules[module]
        if spec.kind == "http":
            url = target_url(request.target, spec.http.path)
            result = http_probe(url, spec.http, config.config.auths, config.file, deadline, module=module)
            return http_metrics(module, result)
        try:
            target = config.sql_target(request)
        except BadRequest as exc:
            raise ProbeFailed("config", str(exc)) from None
        metrics, failures = config.engine.run_queries(target, spec.queries, deadline, prefix=METRIC_PREFIX)
        if failures and len(failures) == len(spec.queries):
            # Every query failed (the database is down, the account locked): fail the module with the
            # first reason, and keep the per-query series so the dashboard shows which failed how.
            raise ProbeFailed(failures[0].reason, failures[0].detail, metrics=metrics)
        return metrics

    def collect(self, config: LoadedHis) -> Iterable[Metric]:
        """Yield the size of each database connection pool."""
        return config.engine.pool_metrics()

    def close(self, config: LoadedHis) -> None:
        """Close every pooled database connection of the config."""
        config.engine.close()


def main(argv: list[str] | None = None) -> int:
    """Run the HIS exporter."""
    return serve(HisExporter(), argv)


if __name__ == "__main__":
    sys.exit(main())
