"""Knowledge-base search, in turns: the console's indexed search and a LIKE scan, on SQLite and PostgreSQL.

The same 50 000 articles (40 random Chinese and English words each; 20 also hold the phrases searched for) go
into a migrated SQLite store and a migrated PostgreSQL store. Ours is `alertrouter.console.kb.search`: on
SQLite the FTS5 trigram index (terms under three characters use LIKE on the index), on PostgreSQL ILIKE
served by the migration's pg_trgm GIN index. The peer on each store is a LIKE scan of the same rows for
every term (on PostgreSQL with bitmap and index scans off, so it reads the table). A turn runs one query
`--runs` times; turns alternate LIKE, ours for `--rounds` rounds; both must find the same number of rows.

    .venv/bin/python bench/console_search.py [--rounds 5] [--runs 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from alertrouter.console.kb import search  # noqa: E402
from alertrouter.console.models import Article  # noqa: E402
from alertrouter.db import make_engine, make_sessionmaker  # noqa: E402
from alertrouter.migrate import upgrade  # noqa: E402
from bench.harness import Measure, Report, alternate  # noqa: E402
from bench.servers import postgres  # noqa: E402

N = 50_000
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你对电源网络数据库医院影像检验"
)
MARKERS = ("光模块老化", "optical transceiver ageing")
QUERIES = (
    "光模块老化",
    "光模块",
    "optical transceiver",
    "transceiver ageing 光模块",
    "不存在的词语",
    "nonexistent",
)


def articles() -> list[dict[str, object]]:
    """Build the articles (seeded, so every run and both stores get the same rows)."""
    rng = random.Random(7)
    zh = ["".join(rng.choices(HANZI, k=rng.randint(2, 4))) for _ in range(5000)]
    en = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9))) for _ in range(5000)]
    marked = set(rng.sample(range(N), 20))
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    rows = []
    for n in range(N):
        words = rng.choices(zh, k=20) + rng.choices(en, k=20)
        rng.shuffle(words)
        if n in marked:
            words += MARKERS
        body = " ".join(words)
        rows.append({"title": " ".join(words[:5]), "body": body, "author": "bench", "created_at": now,
                     "updated_at": now})  # fmt: skip
    return rows


def like_turn(session: Session, query: str, runs: int, postgresql: bool) -> Callable[[], Measure]:
    """Return a turn of `runs` LIKE scans for every term of `query`."""
    terms = query.split()
    where = " AND ".join(f"(title || ' ' || body) LIKE :p{i}" for i in range(len(terms)))
    sql = text(f"SELECT id FROM kb_articles WHERE {where} LIMIT 50")
    params = {f"p{i}": f"%{t}%" for i, t in enumerate(terms)}

    def run() -> Measure:
        times, hits = [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            if postgresql:  # read the table, as a store without the trigram index would
                session.execute(text("SET LOCAL enable_bitmapscan = off"))
                session.execute(text("SET LOCAL enable_indexscan = off"))
            hits = len(session.execute(sql, params).all())
            times.append((time.perf_counter() - t0) * 1000)
            session.rollback()
        return {"ms": statistics.median(times), "hits": hits}

    return run


def ours_turn(session: Session, query: str, runs: int) -> Callable[[], Measure]:
    """Return a turn of `runs` console searches."""

    def run() -> Measure:
        times, hits = [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            hits = len(search(query, session=session, limit=50))
            times.append((time.perf_counter() - t0) * 1000)
            session.rollback()
        return {"ms": statistics.median(times), "hits": hits}

    return run


def bench_store(
    report: Report, store: str, url: str, rows: list[dict[str, object]], args: argparse.Namespace
) -> None:
    """Load the rows into a migrated store and print one figure per query."""
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        session.execute(insert(Article), rows)
    if store == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE kb_articles"))
    with make_sessionmaker(engine)() as session:
        for q in QUERIES:
            results = alternate(
                [("LIKE", like_turn(session, q, args.runs, store == "postgresql")),
                 ("ours", ours_turn(session, q, args.runs))],
                args.rounds,
            )  # fmt: skip
            like, ours = results["LIKE"], results["ours"]
            report.figure(f"{store}: {q}", like["ms"], ours["ms"], digits=2)
            report.same(f"{store} rows found for {q!r}", like["hits"], ours["hits"])
    engine.dispose()


def main() -> int:
    """Build the rows, fill both stores and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10, help="searches per turn (the turn's median is kept)")
    args = parser.parse_args()
    rows = articles()
    report = Report("Knowledge-base search, milliseconds per search", "LIKE scan", "indexed (ours)")
    report.header(
        rows=f"{N} articles, 20 with the phrases; ours: SQLite FTS5 trigram, PostgreSQL 15 pg_trgm GIN",
        work=f"{args.runs} searches per turn, the turn's median kept",
    )
    with tempfile.TemporaryDirectory() as tmp:
        bench_store(report, "sqlite", f"sqlite:///{Path(tmp) / 'kb.db'}", rows, args)
    with postgres() as pg:
        pg.sql("CREATE DATABASE kb")
        bench_store(report, "postgresql", pg.url("kb"), rows, args)
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())
