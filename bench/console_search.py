"""Knowledge-base search on SQLite: the FTS5 trigram index against a LIKE scan, 50 000 articles.

Each article is 40 random Chinese and English words; 20 of them also hold the phrases searched for. Prints
the median and p99 latency of `alertrouter.console.kb.search` (the index; terms under three characters use
LIKE on the index) and of LIKE on the table, on a migrated store in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from alertrouter.console.kb import search
from alertrouter.console.models import Article
from alertrouter.db import make_engine, make_sessionmaker
from alertrouter.migrate import upgrade

N = 50_000
RUNS = 30
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


def main() -> None:
    rng = random.Random(7)
    zh = ["".join(rng.choices(HANZI, k=rng.randint(2, 4))) for _ in range(5000)]
    en = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9))) for _ in range(5000)]
    marked = set(rng.sample(range(N), 20))
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(N):
        words = rng.choices(zh, k=20) + rng.choices(en, k=20)
        rng.shuffle(words)
        if n in marked:
            words += MARKERS
        rows.append(
            {
                "title": " ".join(words[:5]),
                "body": " ".join(words),
                "author": "bench",
                "created_at": now,
                "updated_at": now,
            }
        )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kb.db'}"
        upgrade(url)
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session, session.begin():
            session.execute(insert(Article), rows)
        print(f"{N} articles, 20 with the phrases; median and p99 of {RUNS} runs, milliseconds")
        print(f"{'query':<28}{'hits':>5}{'index p50':>11}{'p99':>8}{'LIKE p50':>10}{'p99':>8}")
        with make_sessionmaker(engine)() as session:
            for q in QUERIES:
                terms = q.split()
                where = " AND ".join(f"(title || ' ' || body) LIKE :p{i}" for i in range(len(terms)))
                like_sql = text(f"SELECT id FROM kb_articles WHERE {where} LIMIT 50")
                params = {f"p{i}": f"%{t}%" for i, t in enumerate(terms)}
                fts, like, hits = [], [], 0
                for _ in range(RUNS):
                    t0 = time.perf_counter()
                    hits = len(search(q, session=session, limit=50))
                    fts.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    session.execute(like_sql, params).all()
                    like.append((time.perf_counter() - t0) * 1000)
                fts.sort()
                like.sort()
                print(
                    f"{q:<28}{hits:>5}{statistics.median(fts):>11.2f}{fts[-1]:>8.2f}"
                    f"{statistics.median(like):>10.2f}{like[-1]:>8.2f}"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
