"""The router's serving processes carry no migration code: Alembic runs in a child and is gone."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

CHECK = """
import sys
from alertrouter.main import upgrade_apart
ok = upgrade_apart(sys.argv[1])
print(ok, "alembic" in sys.modules)
"""


def test_db_upgrade_migrates_without_loading_alembic_in_the_server(tmp_path: Path) -> None:
    """`--db.upgrade` migrates the store, and the process that then serves never imported Alembic."""
    db = tmp_path / "router.db"
    done = subprocess.run(
        [sys.executable, "-c", CHECK, f"sqlite:///{db}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.split() == ["True", "False"], done.stderr
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"incidents", "alerts", "alembic_version"} <= tables


def test_a_failed_migration_is_reported(tmp_path: Path) -> None:
    """A store that cannot be migrated (a folder where the file should be) fails; it never starts silently."""
    (tmp_path / "router.db").mkdir()
    done = subprocess.run(
        [sys.executable, "-c", CHECK, f"sqlite:///{tmp_path / 'router.db'}"],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.split()[0] == "False"


PRELOAD = """
import sys
from alertrouter.main import preload
for url in sys.argv[1:]:
    preload(url)
    print("alertrouter.console.views_incidents" in sys.modules, "psycopg" in sys.modules)
"""


def test_the_master_imports_what_workers_share() -> None:
    """The master imports the console and its store's driver before forking, so workers share those pages;
    a SQLite router never loads psycopg."""
    urls = ["sqlite://", "postgresql+psycopg://router@127.0.0.1:1/router"]
    done = subprocess.run(
        [sys.executable, "-c", PRELOAD, *urls], check=True, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["True", "False", "True", "True"], done.stderr
