"""The worker loop: one pass runs every job once; a thread repeats passes until stopped."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.alertmanager import Alertmanager
from alertrouter.console.changes import sync as sync_changes
from alertrouter.context import Router
from alertrouter.db import transaction
from alertrouter.notify.channels import send
from alertrouter.wards.runs import run_playbooks
from alertrouter.worker.escalation import escalate_due
from alertrouter.worker.fetch import fetch_truncated
from alertrouter.worker.gaps import check_gaps
from alertrouter.worker.outbox import Sender, deliver_due
from alertrouter.worker.reassess import Decided, reassess_open
from alertrouter.worker.retention import Retention

log = logging.getLogger("alertrouter.worker")


def utcnow() -> dt.datetime:
    """Return the current time in UTC."""
    return dt.datetime.now(dt.UTC)


class Worker:
    """Runs the background jobs against one store; several replicas may run one each."""

    def __init__(
        self,
        router: Router,
        sessions: sessionmaker[Session],
        *,
        now: Callable[[], dt.datetime] = utcnow,
        sender: Sender = send,
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.lock = lock
        """The app's SQLite write lock, so the worker queues with the intake instead of polling SQLite."""
        self.now = now
        self.sender = sender
        self.retention = Retention(router.settings.file.retention)
        self.decided = Decided()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        """Run every job once: on-call gaps, priorities, escalations, playbooks, pages, fetches, silences,
        retention."""
        with transaction(self.sessions, self.lock) as session:
            check_gaps(self.router, session=session, now=self.now())
        now = self.now()
        decided = set(self.decided.this_minute(now))
        with transaction(self.sessions, self.lock) as session:
            reassess_open(self.router, session=session, now=now, decided=decided)
        self.decided.ids = decided  # kept only once committed
        with transaction(self.sessions, self.lock) as session:
            escalate_due(self.router, session=session, now=self.now())
        with transaction(self.sessions, self.lock) as session:
            run_playbooks(self.router, session=session, now=self.now())
        deliver_due(self.router, self.sessions, now=self.now, sender=self.sender, lock=self.lock)
        am = Alertmanager.from_settings(self.router.settings)
        if am is not None:
            fetch_truncated(self.router, self.sessions, now=self.now, lock=self.lock)
            # Changes keep their silence on the current or next window without anyone opening the console.
            with transaction(self.sessions, self.lock) as session:
                sync_changes(session=session, am=am, now=self.now())
        self.retention.run_if_due(self.sessions, now=self.now(), lock=self.lock)

    def _loop(self) -> None:
        interval = self.router.settings.file.worker.interval_seconds
        while not self._stop.is_set():
            try:
                self.run_once()
            except SQLAlchemyError as exc:  # the store may be down for a while; keep trying
                log.warning("worker pass failed: %s", exc)
            except Exception:
                log.exception("worker pass failed")
            self._stop.wait(interval)

    def start(self) -> None:
        """Run passes in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="router-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
