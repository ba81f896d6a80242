"""Database health scrapes, in turns: hospmon-database-exporter against mysqld_exporter and postgres_exporter.

Starts a private MariaDB and PostgreSQL (fsync on, as production runs), fills a 20 000-row ``visits`` table
in each, and runs the three exporters as processes with the same least-privilege account, plain TCP (no TLS)
and a pooled connection. Ours scrapes ``/probe?target=...&module=health`` (sizes refreshed every scrape, as
the peers do); the peers run the collectors nearest to our health module:

- mysqld_exporter 0.14: global status, global variables, slave status, processlist, InnoDB metrics and
  tablespaces (its default InnoDB compression and query-response-time collectors off);
- postgres_exporter 0.11: its default metrics (pg_stat_activity, pg_locks, pg_stat_database,
  pg_stat_replication, ...) and database sizes, without pg_settings and bgwriter.

The peers' series are not ours one for one (the printout gives both counts); the work each does per scrape
is the same kind: a few statements on the monitoring views over one pooled connection. A turn is
`--scrapes` scrapes one after the other; turns alternate peer, hospmon for `--rounds` rounds.

    .venv/bin/python bench/database_scrape.py [--rounds 5] [--scrapes 20]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Report, alternate, contains, scrape_turn, series_count  # noqa: E402
from bench.servers import (  # noqa: E402
    MONITOR_PASSWORD,
    MONITOR_USER,
    fetch,
    free_port,
    http_ok,
    mariadb,
    postgres,
    process,
)

ROWS = 20_000
MYSQLD_EXPORTER, POSTGRES_EXPORTER = "prometheus-mysqld-exporter", "prometheus-postgres-exporter"
MYSQLD_FLAGS = [
    "--collect.global_status", "--collect.global_variables", "--collect.slave_status",
    "--collect.info_schema.processlist", "--collect.info_schema.innodb_metrics",
    "--collect.info_schema.innodb_tablespaces", "--no-collect.info_schema.innodb_cmp",
    "--no-collect.info_schema.innodb_cmpmem", "--no-collect.info_schema.query_response_time",
]  # fmt: skip
POSTGRES_FLAGS = ["--disable-settings-metrics", "--no-collector.bgwriter", "--collector.database"]


def fill_sql() -> str:
    """Return SQL that creates and fills the visits table (standard SQL both engines take)."""
    rows = ",".join(f"({i}, 'clinic{i % 5}', {i % 3600})" for i in range(ROWS))
    return (
        "CREATE TABLE visits (id int PRIMARY KEY, clinic varchar(20), wait_seconds int);"
        f"INSERT INTO visits VALUES {rows};"
    )


def our_config(folder: Path, maria_port: int, pg_port: int) -> Path:
    """Write the database exporter's config: one connection per server, health sizes every scrape."""
    (folder / "db-password").write_text(MONITOR_PASSWORD)
    auth = {"user": MONITOR_USER, "password_file": str(folder / "db-password")}
    common = {"host": "127.0.0.1", "database": "his", "auth": "monitor", "tls": "disable", "pool_size": 2}
    path = folder / "database.yml"
    path.write_text(yaml.safe_dump({
        "auths": {"monitor": auth},
        "connections": {
            "maria": {**common, "engine": "mysql", "port": maria_port},
            "pg": {**common, "engine": "postgres", "port": pg_port},
        },
        "health": {"sizes_min_interval": 0},
    }))  # fmt: skip
    return path


def main() -> int:
    """Start the servers and the exporters, run the turns and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=20, help="scrapes per turn")
    args = parser.parse_args()
    for program in (MYSQLD_EXPORTER, POSTGRES_EXPORTER):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is not installed: apt-get install {program}")
    report = Report("Database health scrapes", "Go exporter")
    with tempfile.TemporaryDirectory() as tmp, mariadb() as maria, postgres() as pg:
        folder = Path(tmp)
        maria.sql(f"CREATE DATABASE his; USE his; {fill_sql()} ANALYZE TABLE visits;")
        pg.sql("CREATE DATABASE his")
        pg.sql(f"{fill_sql()} ANALYZE visits;", database="his")
        mp, pp, op = free_port(), free_port(), free_port()
        dsn_my = f"{MONITOR_USER}:{MONITOR_PASSWORD}@(127.0.0.1:{maria.port})/"
        dsn_pg = f"postgresql://{MONITOR_USER}:{MONITOR_PASSWORD}@127.0.0.1:{pg.port}/his?sslmode=disable"
        config = our_config(folder, maria.port, pg.port)
        ours_argv = [sys.executable, "-m", "exporters.database.main", f"--config.file={config}",
                     f"--web.listen-address=127.0.0.1:{op}", "--log.level=error"]  # fmt: skip
        with (
            process([MYSQLD_EXPORTER, f"--web.listen-address=127.0.0.1:{mp}", *MYSQLD_FLAGS],
                    lambda: http_ok(f"http://127.0.0.1:{mp}/"), folder / "mysqld.log",
                    env={"DATA_SOURCE_NAME": dsn_my}) as mysqld,
            process([POSTGRES_EXPORTER, f"--web.listen-address=127.0.0.1:{pp}", *POSTGRES_FLAGS],
                    lambda: http_ok(f"http://127.0.0.1:{pp}/"), folder / "postgres_exporter.log",
                    env={"DATA_SOURCE_NAME": dsn_pg}) as pgexp,
            process(ours_argv, lambda: http_ok(f"http://127.0.0.1:{op}/-/healthy"), folder / "ours.log",
                    env={"PYTHONPATH": str(REPO)}) as ours,
        ):  # fmt: skip
            sides = {
                "mysql": (mysqld.pid, f"http://127.0.0.1:{mp}/metrics", contains("mysql_up 1"),
                          f"http://127.0.0.1:{op}/probe?target=maria&module=health"),
                "postgres": (pgexp.pid, f"http://127.0.0.1:{pp}/metrics", contains("pg_up 1"),
                             f"http://127.0.0.1:{op}/probe?target=pg&module=health"),
            }  # fmt: skip
            ok = contains('hospmon_probe_success{module="health"} 1.0')
            counts = {
                engine: (
                    series_count(fetch(peer_url), ("mysql_", "pg_")),
                    series_count(fetch(url), ("hospmon_db_",)),
                )
                for engine, (_, peer_url, _, url) in sides.items()
            }
            report.header(
                servers=f"MariaDB {maria.sql('SELECT VERSION()').strip()}, PostgreSQL 15, {ROWS} rows",
                work=f"{args.scrapes} scrapes per turn, one pooled connection, no TLS, 2 warm-ups",
                series=", ".join(f"{e}: peer {p}, hospmon {o}" for e, (p, o) in counts.items()),
            )
            done = 2
            for engine, (pid, peer_url, peer_ok, url) in sides.items():
                for u in (peer_url, url) * 2:
                    fetch(u)
                peer_name = "mysqld_exporter" if engine == "mysql" else "postgres_exporter"
                results = alternate(
                    [
                        (peer_name, scrape_turn(pid, peer_url, args.scrapes, peer_ok, report)),
                        ("hospmon", scrape_turn(ours.pid, url, args.scrapes, ok, report)),
                    ],
                    args.rounds,
                )
                peer, mine = results[peer_name], results["hospmon"]
                report.figure(f"{engine} vs {peer_name}: wall ms", peer["wall_ms"], mine["wall_ms"], digits=2)
                report.figure(f"{engine}: CPU per scrape, ms", peer["cpu_ms"], mine["cpu_ms"], digits=2)
                report.figure(f"{engine}: RSS after the turn, MiB", peer["rss"], mine["rss"])
                done += args.rounds * args.scrapes
            report.note(f"CPU resolution per scrape: {10 / args.scrapes:.1f} ms; ours scraped {done * 2} "
                        f"times in all (both engines, one process), each peer {done}")  # fmt: skip
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())
