"""The worker loop: one pass runs every job once; a thread repeats passes until stopped."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.context import Router
from alertrouter.notify.channels import send
from alertrouter.worker.escalation import escalate_due
from alertrouter.worker.fetch import fetch_truncated
from alertrouter.worker.gaps import check_gaps
from alertrouter.worker.outbox import Sender, deliver_due
from alertrouter.worker.reassess import reassess_open

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
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.now = now
        self.sender = sender
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        """Run every job once: on-call gaps, priorities, escalations, deliveries, truncated fetches."""
        with self.sessions() as session, session.begin():
            check_gaps(self.router, session=session, now=self.now())
        with self.sessions() as session, session.begin():
            reassess_open(self.router, session=session, now=self.now())
        with self.sessions() as session, session.begin():
            escalate_due(self.router, session=session, now=self.now())
        deliver_due(self.router, self.sessions, now=self.now, sender=self.sender)
        if self.router.settings.file.alertmanager.url:
            fetch_truncated(self.router, self.sessions, now=self.now)

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
