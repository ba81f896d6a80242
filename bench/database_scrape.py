"""Cost of one database scrape: the built-in health module and a module of 20 custom queries.

Starts a private MariaDB and PostgreSQL (the test fixtures' servers, with the least-privilege monitoring
account), fills a 20 000-row ``visits`` table, then for each engine times `--runs` scrapes run one after
the other, as Prometheus does:

- health, warm: the pooled connection is reused from the previous scrape (the normal case);
- health, cold: a new connection every scrape (``idle_timeout: 0``), to show what the pool saves;
- 20 queries: 20 aggregate queries (``GROUP BY`` over the table) on one pooled connection.

For each it prints the median and 95th percentile wall time, the exporter's CPU time per scrape and the
number of server round trips per scrape (statements plus connects, as counted by the engine).

    .venv/bin/python bench/database_scrape.py [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.servers.monitored import MONITOR_USER, monitored_mariadb, monitored_postgres  # noqa: E402
from exporters.core.probe import Deadline  # noqa: E402
from exporters.database.config import HealthSpec, QuerySpec  # noqa: E402
from exporters.database.drivers import Target  # noqa: E402
from exporters.database.engine import SqlEngine  # noqa: E402
from exporters.database.health import run_health  # noqa: E402

MONITOR_PASSWORD = "bench-monitor-pw"

ROWS = 20_000
CLINICS = ["general", "specialist", "emergency", "paediatrics", "obstetrics"]


def queries() -> list[QuerySpec]:
    """Twenty aggregate queries of the kind the HIS and LIS modules run."""
    metric = {"help": "Visits.", "labels": ["clinic"], "values": ["n", "wait"], "value_label": "column"}
    return [
        QuerySpec.model_validate(
            {
                "name": f"q{i:02d}",
                "sql": f"SELECT clinic, COUNT(*) AS n, AVG(wait_seconds) AS wait FROM visits"
                f" WHERE id % 20 = {i} GROUP BY clinic",
                "label_rules": {"clinic": {"allow": CLINICS}},
                "metrics": [{"name": f"bench_visits_{i}", **metric}],
            }
        )
        for i in range(20)
    ]


def fill(execute: Callable[[str], object]) -> None:
    """Create and fill the visits table (admin connection)."""
    execute("CREATE TABLE visits (id int PRIMARY KEY, clinic varchar(20), wait_seconds int)")
    for start in range(0, ROWS, 1000):
        values = ",".join(
            f"({i}, '{CLINICS[i % len(CLINICS)]}', {i % 3600})" for i in range(start, start + 1000)
        )
        execute(f"INSERT INTO visits VALUES {values}")


def measure(runs: int, scrape: Callable[[], int]) -> str:
    """Run `scrape` `runs` times; return median and p95 wall ms, CPU ms and round trips per scrape."""
    scrape()  # warm-up: first connect, imports
    walls, cpus, trips = [], [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        trips.append(scrape())
        walls.append((time.perf_counter() - w) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    walls.sort()
    p95 = walls[min(len(walls) - 1, int(len(walls) * 0.95))]
    return (
        f"median {statistics.median(walls):7.2f} ms  p95 {p95:7.2f} ms  "
        f"cpu {statistics.median(cpus):6.2f} ms  round trips {statistics.median(trips):4.0f}"
    )


def bench(engine_name: str, port: int, runs: int) -> None:
    """Print the three measurements for one server."""
    base = {"name": engine_name, "engine": engine_name, "host": "127.0.0.1", "port": port, "database": "his",
            "user": MONITOR_USER, "password": MONITOR_PASSWORD}  # fmt: skip
    warm, cold = Target(**base), Target(**{**base, "idle_timeout": 0.0})  # type: ignore[arg-type]
    spec, custom = HealthSpec(sizes_min_interval=0), queries()
    engine = SqlEngine()

    def health(target: Target) -> Callable[[], int]:
        def run() -> int:
            before = engine.pool(target).round_trips
            run_health(engine, target, spec, Deadline.after(10))
            return engine.pool(target).round_trips - before

        return run

    def twenty() -> int:
        before = engine.pool(warm).round_trips
        _, failures = engine.run_queries(warm, custom, Deadline.after(10))
        assert not failures, failures
        return engine.pool(warm).round_trips - before

    print(f"{engine_name}:")
    print(f"  health, pooled connection   {measure(runs, health(warm))}")
    print(f"  health, new connection      {measure(runs, health(cold))}")
    print(f"  20 custom queries, pooled   {measure(runs, twenty)}")
    engine.close()


def main() -> None:
    """Start the servers and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with monitored_mariadb(MONITOR_PASSWORD) as maria, monitored_postgres(MONITOR_PASSWORD) as pg:
        with maria.admin("his") as conn, conn.cursor() as cur:
            fill(cur.execute)
            cur.execute("ANALYZE TABLE visits")
        with pg.admin("his") as conn:
            fill(conn.execute)
            conn.execute("ANALYZE visits")
            conn.execute(f"GRANT SELECT ON visits TO {MONITOR_USER}")
        print(f"{ROWS} rows in visits; {args.runs} scrapes each, one after the other\n")
        bench("mysql", maria.port, args.runs)
        bench("postgres", pg.port, args.runs)


if __name__ == "__main__":
    main()
