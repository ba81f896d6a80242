"""Alertmanager webhook intake, in turns: Alerta 9.1 and hospmon-router, every alert on a CI of its own.

The router reads a generated inventory: the demo hospital's departments, teams and services with
`--cis` configuration items in a realistic graph (core, aggregation per building, access per floor, servers,
applications and modalities behind them). Every alert of the run names a different CI and has a new
fingerprint, so each one is new work (priority from the CI's departments and blast radius, owner, grouping
under an upstream incident when one is open). Alerta gets the same request bodies, built before any turn.

Both servers run 2 gunicorn gthread workers of 8 threads and store in the same PostgreSQL (fsync and
synchronous_commit on, each in its own database); the router also runs on SQLite (WAL, synchronous=FULL) in
a second pass, against Alerta on PostgreSQL. A cell is (alerts per request, clients); a turn posts
`--requests` requests (keep-alive, TCP_NODELAY) through one server; turns alternate Alerta, hospmon.
Per figure: alerts/s, p50 and p99 latency, server CPU per alert (the gunicorn tree), PostgreSQL's CPU per
alert, and RSS per worker after the turns. Any non-2xx answer is a failure.

    .venv/bin/python bench/router_ingest.py [--rounds 5] [--stores postgresql,sqlite] [--alerta-venv DIR]
        [--cells 1x8x300,50x4x12]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Measure, Report, alternate, descendants, pss_mib, rss_mib  # noqa: E402
from bench.router_load import Cell, generate_inventory, payloads, post_turn  # noqa: E402
from bench.router_peer import TOKEN, alerta, router  # noqa: E402
from bench.servers import Postgres, postgres  # noqa: E402

CELLS = (Cell(1, 8, 300), Cell(50, 4, 12))


def worker_memory(pid: int, read: Callable[[int], float] = rss_mib) -> float:
    """Return the largest RSS (or another reading) among a gunicorn master's workers, in MiB."""
    return max((read(p) for p in descendants(pid) if p != pid), default=read(pid))


def run_store(store: str, args: argparse.Namespace, folder: Path, report: Report, cis: list[str]) -> None:
    """Run every cell against Alerta and the router on one store; print the figures."""
    with postgres() as pg:
        pg.sql("CREATE DATABASE alerta")
        pg.sql("CREATE DATABASE router")
        ours_url = pg.url("router") if store == "postgresql" else f"sqlite:///{folder / 'router.db'}"
        with (
            alerta(
                args.alerta_venv or folder / "alerta-venv", pg.url("alerta", driver="postgres"), folder
            ) as (
                apid,
                aurl,
            ),
            router(ours_url, folder / "inventory", folder, None) as (opid, ourl),
        ):
            pg_pid = pg.proc.pid
            headers = {"alerta": {}, "hospmon": {"Authorization": f"Bearer {TOKEN}"}}
            offset = 0
            warm = payloads(cis[offset : offset + 40], 1, seed=0)
            offset += 40
            for name, url in (("alerta", aurl), ("hospmon", ourl)):
                post_turn(url, warm, 4, headers[name], report, name, 0, pg_pid)
            for cell in args.cells:
                per_round = cell.requests * cell.batch
                bodies = [
                    payloads(cis[offset + r * per_round : offset + (r + 1) * per_round], cell.batch, seed=r)
                    for r in range(args.rounds)
                ]
                offset += args.rounds * per_round
                rounds = {"alerta": iter(bodies), "hospmon": iter(bodies)}

                def turn(name: str, url: str, pid: int, cell: Cell = cell, rounds: dict = rounds) -> Measure:
                    return post_turn(
                        url, next(rounds[name]), cell.clients, headers[name], report, name, pid, pg_pid
                    )

                results = alternate(
                    [
                        ("alerta", lambda: turn("alerta", aurl, apid)),
                        ("hospmon", lambda: turn("hospmon", ourl, opid)),
                    ],
                    args.rounds,
                )
                peer, mine = results["alerta"], results["hospmon"]
                label = f"{store}, {cell.batch}/req c{cell.clients}"
                report.figure(f"{label}: alerts/s", peer["alerts_per_s"], mine["alerts_per_s"], digits=0)
                report.figure(f"{label}: p50 ms", peer["p50"], mine["p50"])
                report.figure(f"{label}: p99 ms", peer["p99"], mine["p99"])
                report.figure(f"{label}: server CPU ms/alert", peer["cpu"], mine["cpu"], digits=2)
                report.figure(f"{label}: PostgreSQL CPU ms/alert", peer["db_cpu"], mine["db_cpu"], digits=2)
                report.note(f"CPU resolution per alert: 10 ms / {per_round} alerts = {10 / per_round:.3f} ms")
            report.figure(
                f"{store}: RSS per worker, MiB", [worker_memory(apid)], [worker_memory(opid)], paired=False
            )
            peer_pss, our_pss = worker_memory(apid, pss_mib), worker_memory(opid, pss_mib)
            report.figure(f"{store}: PSS per worker, MiB", [peer_pss], [our_pss], paired=False)
            report.note(
                "PSS counts the pages a worker shares with its master and siblings in part: the router's"
                " workers are forked from a master that loaded the inventory; Alerta's import on their own"
            )
            stored = int(pg.sql("SELECT count(*) FROM alerts", database="alerta"))
            ours, incidents = router_counts(pg, ours_url)
            report.same(f"{store}: alerts stored", stored, ours)
            report.same(f"{store}: alerts sent and stored", offset, ours)
            report.note(
                f"{store}: {offset} alerts sent to each side; Alerta stored {stored}, the router {ours}"
                f" in {incidents} incidents"
            )


def router_counts(pg: Postgres, url: str) -> tuple[int, int]:
    """Return how many alerts and incidents the router stored."""
    query = "SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM incidents)"
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            alerts, incidents = db.execute(query).fetchone()
    else:
        alerts, incidents = map(int, pg.sql(query, database="router").split("|"))
    return int(alerts), int(incidents)


def main() -> int:
    """Generate the inventory and payloads, then run each store's pass."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stores", default="postgresql,sqlite")
    parser.add_argument(
        "--cis", type=int, default=5000, help="configuration items in the generated inventory"
    )
    parser.add_argument("--alerta-venv", type=Path, help="reuse a venv with alerta-server (made if missing)")
    parser.add_argument(
        "--cells",
        type=lambda text: tuple(Cell(*map(int, c.split("x"))) for c in text.split(",")),
        default=CELLS,
        help="alerts/request x clients x requests/turn, comma-separated (default 1x8x300,50x4x12)",
    )
    args = parser.parse_args()
    report = Report("Alertmanager webhook intake, every alert on its own CI", "Alerta 9.1")
    with tempfile.TemporaryDirectory(prefix="hm-router-bench-") as tmp:
        folder = Path(tmp)
        cis = generate_inventory(REPO / "demo" / "inventory", folder / "inventory", args.cis)
        needed = 40 + args.rounds * sum(c.requests * c.batch for c in args.cells)
        if needed > len(cis):
            raise SystemExit(f"{needed} alerts need as many CIs: --cis {needed} or more")
        report.header(
            inventory=f"{len(cis)} CIs generated (plus the demo's), each alert on a CI of its own",
            servers="both: gunicorn 2 gthread workers x 8 threads; PostgreSQL 15 fsync on, one per pass",
            cells=", ".join(
                f"{c.batch} alert(s)/request x {c.clients} clients, {c.requests} requests/turn"
                for c in args.cells
            ),
        )
        for store in args.stores.split(","):
            run_store(store, args, folder, report, cis)
            (folder / "router.db").unlink(missing_ok=True)
            shutil.rmtree(folder / "router-state", ignore_errors=True)
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())
