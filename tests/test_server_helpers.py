"""The helpers that start the real servers: waiting for one leaves nothing behind to fail a later test."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pymysql
import pytest

from demo.servers.process import wait_until


def test_waiting_for_a_starting_database_leaks_no_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MariaDB still starting refuses pymysql, which leaves its Unix socket to the garbage collector.

    Freed later, outside the wait, its ResourceWarning failed whichever test was running then.
    """
    leaked: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: leaked.append(repr(u.exc_value)))
    refusals = iter(range(3))

    def answers() -> bool:
        if next(refusals, None) is not None:  # no server on the socket yet
            pymysql.connect(unix_socket=str(tmp_path / "mysqld.sock"), user="root", connect_timeout=1)
        return True

    assert wait_until(answers, "mariadbd", timeout=10, interval=0.01)
    gc.collect()
    assert leaked == []
