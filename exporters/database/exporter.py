"""`DatabaseExporter`: the built-in ``health`` module and custom query modules, for many targets.

``/probe?target=his-db&module=health,his_business`` probes a named connection;
``/probe?target=10.1.2.3:3306&auth=monitor&engine=mysql`` probes any server with a named account.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporters.core.policy import Access, Checked, check_policy
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeFailed, ProbeRequest
from exporters.database.config import HEALTH_MODULE, DatabaseConfig, check_references
from exporters.database.drivers import QueryError, Target
from exporters.database.engine import SqlEngine
from exporters.database.health import db_up, run_health
from exporters.database.targets import adhoc_target, named_targets, read_passwords
from hospmon.config import load
from hospmon.phi import RefusalTally


@dataclass
class LoadedConfig:
    """A validated config with its passwords, targets and the engine holding their pools."""

    config: DatabaseConfig
    passwords: dict[str, str] = field(repr=False)
    targets: dict[str, Target]
    access: Access = field(default_factory=Access)
    engine: SqlEngine = field(default_factory=SqlEngine)

    def target(self, request: ProbeRequest) -> Target:
        """Resolve the request's target, raising `BadRequest` when it names nothing usable."""
        named = self.targets.get(request.target)
        if named is not None:
            return named
        return adhoc_target(self.config, self.passwords, request, self.access)


def read_database_config(path: Path | None) -> Checked[DatabaseConfig] | None:
    """Read and validate a database exporter config and its allow-list (None when no file is given)."""
    if path is None:
        return None
    config = load(DatabaseConfig, path)
    check_references(config, path)
    return check_policy(config, path, "database")


def build_database_config(
    read: Checked[DatabaseConfig] | None, path: Path | None, tally: RefusalTally | None = None
) -> LoadedConfig:
    """Read the passwords, name the targets and make the SQL engine with the config's PHI guard."""
    if read is None or path is None:
        return LoadedConfig(DatabaseConfig(), {}, {})
    config = read.config
    passwords = read_passwords(config, path)
    access = read.access.access(tally)
    engine = SqlEngine(guard=access.guard)
    loaded = LoadedConfig(config, passwords, named_targets(config, passwords), access, engine)
    for target in loaded.targets.values():
        loaded.engine.pool(target)  # no connection yet: the pool's series exist from the start
    return loaded


def load_database_config(path: Path | None, tally: RefusalTally | None = None) -> LoadedConfig:
    """Read, validate and resolve a database exporter config (an empty one when no file is given)."""
    return build_database_config(read_database_config(path), path, tally)


def _fail(failures: list[QueryError]) -> ProbeFailed:
    first = failures[0]
    return ProbeFailed(first.reason, first.detail)


class DatabaseExporter(Exporter[LoadedConfig]):
    """Health and custom SQL probes of MySQL/MariaDB, PostgreSQL and Oracle databases."""

    name = "database"
    default_port = 9104
    description = "Database health and custom SQL probes: MySQL/MariaDB, PostgreSQL and compatibles, Oracle."
    default_module = HEALTH_MODULE

    def read_config(self, path: Path | None) -> Checked[DatabaseConfig] | None:
        """Read and validate the config file and its allow-list."""
        return read_database_config(path)

    def build(self, read: Checked[DatabaseConfig] | None, path: Path | None) -> LoadedConfig:
        """Read every password the config refers to and make the targets and the engine."""
        return build_database_config(read, path, self.refusals)

    def module_names(self, config: LoadedConfig) -> Collection[str]:
        """Return ``health`` and the configured custom modules."""
        return [HEALTH_MODULE, *config.config.modules]

    def check_request(self, config: LoadedConfig, request: ProbeRequest) -> None:
        """Refuse unknown modules and targets that name no connection and no usable auth."""
        super().check_request(config, request)
        config.target(request)

    def probe_module(
        self, config: LoadedConfig, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Run one module against the request's target."""
        try:
            target = config.target(request)
        except BadRequest as exc:
            raise ProbeFailed("config", str(exc)) from None
        if module == HEALTH_MODULE:
            try:
                return run_health(config.engine, target, config.config.health, deadline)
            except QueryError as exc:
                raise ProbeFailed(exc.reason, exc.detail) from None
        spec = config.config.modules[module]
        metrics, failures = config.engine.run_queries(target, spec.queries, deadline)
        if failures and len(failures) == len(spec.queries):
            raise _fail(failures)
        return metrics

    def failure_metrics(self, config: LoadedConfig, module: str) -> Iterable[Metric]:
        """Return ``hospmon_db_up 0`` for a failed health module, so a database that is down reads 0."""
        return [db_up(0)] if module == HEALTH_MODULE else []

    def collect(self, config: LoadedConfig) -> Iterable[Metric]:
        """Yield the size of each connection pool."""
        return config.engine.pool_metrics()

    def close(self, config: LoadedConfig) -> None:
        """Close every pooled connection of the config."""
        config.engine.close()
