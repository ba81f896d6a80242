"""Deliver queued alert batches to one Alertmanager's API v2, oldest first, retrying until it accepts.

A batch leaves the queue only when Alertmanager answers 200. While it is unreachable or answers 5xx the
same batch is retried with a growing pause (up to 30 s), so delivery resumes in order when it returns.
A 4xx means the batch itself is wrong: it is logged with Alertmanager's reason, counted and dropped, so
one bad batch cannot hold back the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import requests

from exporters.events.queue import DiskQueue

log = logging.getLogger("hospmon.events")
MAX_PAUSE_SECONDS = 30.0


class Deliverer:
    """A thread draining one queue into one Alertmanager."""

    def __init__(
        self,
        url: str,
        queue: DiskQueue,
        *,
        timeout: float,
        ttl: float,
        session: requests.Session,
        on_result: Callable[[str, int], None],
    ) -> None:
        self.url = url
        self.queue = queue
        self.timeout = timeout
        self.ttl = ttl
        self.session = session
        self.on_result = on_result
        self.up = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"deliver {url}", daemon=True)

    def start(self) -> None:
        """Start delivering in the background."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the request in flight; what is left stays queued on disk."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        pause = 0.5
        while not self._stop.is_set():
            item = self.queue.peek(timeout=0.5)
            if item is None:
                continue
            seq, posts = item
            now = time.time()
            body = [p.alertmanager(now, self.ttl) for p in posts]
            result = self._post(body)
            self.on_result(result, len(posts))
            if result in ("accepted", "rejected"):
                self.queue.pop(seq)
                pause = 0.5
                continue
            self._stop.wait(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)

    def _post(self, body: list[dict[str, object]]) -> str:
        try:
            resp = self.session.post(f"{self.url}/api/v2/alerts", json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            if self.up:
                log.warning("Alertmanager %s unreachable, queueing: %s", self.url, type(exc).__name__)
            self.up = False
            return "unreachable"
        if resp.status_code == 200:
            if not self.up:
                log.info("Alertmanager %s accepts alerts", self.url)
            self.up = True
            return "accepted"
        self.up = resp.status_code < 500
        if 400 <= resp.status_code < 500 and resp.status_code != 429:
            log.error(
                "Alertmanager %s refused a batch of %d alerts (%d): %s",
                self.url,
                len(body),
                resp.status_code,
                resp.text[:300],
            )
            return "rejected"
        log.warning("Alertmanager %s answered %d, retrying", self.url, resp.status_code)
        return "failed"
