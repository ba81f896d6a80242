"""A bounded, ordered queue of alert batches on disk: what Alertmanager has not yet accepted.

Every batch is written (and fsynced) as one numbered file before delivery is tried, so a crash or an
Alertmanager outage loses nothing and delivery resumes in order. When the queue outgrows `max_bytes`, the
oldest batches go first and are counted: they are the least worth keeping, because every alert still open
is sent again by the next refresh and an alert Alertmanager stops hearing about ends by itself.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections import deque
from pathlib import Path

from exporters.events.alerts import Post

log = logging.getLogger("hospmon.events")
SUFFIX = ".batch.json"


class DiskQueue:
    """Batches in `directory`, oldest first; safe to use from several threads."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Condition()
        self._items: deque[tuple[int, int, int]] = deque()  # sequence, bytes, alerts
        self.dropped_alerts = 0
        self.bytes = 0
        for path in sorted(directory.glob(f"*{SUFFIX}")):
            seq = int(path.name.removesuffix(SUFFIX))
            try:
                alerts = len(json.loads(path.read_bytes()))
            except (OSError, ValueError) as exc:
                log.error("dropping unreadable queued batch %s: %s", path.name, exc)
                path.unlink(missing_ok=True)
                continue
            self._items.append((seq, path.stat().st_size, alerts))
            self.bytes += path.stat().st_size
        self._next = self._items[-1][0] + 1 if self._items else 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def alerts(self) -> int:
        """Return how many alerts wait in the queue."""
        with self._lock:
            return sum(n for _, _, n in self._items)

    def _path(self, seq: int) -> Path:
        return self.directory / f"{seq:016d}{SUFFIX}"

    def put(self, posts: list[Post]) -> None:
        """Append a batch durably, dropping the oldest batches while the queue is over its bound."""
        data = json.dumps([p.to_json() for p in posts], ensure_ascii=False).encode()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with self._lock:
            seq = self._next
            self._next += 1
            os.replace(tmp, self._path(seq))
            self._items.append((seq, len(data), len(posts)))
            self.bytes += len(data)
            while self.bytes > self.max_bytes and len(self._items) > 1:
                old, size, count = self._items.popleft()
                self._path(old).unlink(missing_ok=True)
                self.bytes -= size
                self.dropped_alerts += count
                log.warning(
                    "queue over %d bytes: dropped the oldest batch (%d alerts)", self.max_bytes, count
                )
            self._lock.notify_all()

    def peek(self, timeout: float) -> tuple[int, list[Post]] | None:
        """Return the oldest batch, waiting up to `timeout` seconds for one."""
        with self._lock:
            if not self._items:
                self._lock.wait(timeout)
            if not self._items:
                return None
            seq = self._items[0][0]
        try:
            data = json.loads(self._path(seq).read_bytes())
        except FileNotFoundError:  # dropped for room meanwhile: the caller peeks again
            return None
        return seq, [Post.from_json(item) for item in data]

    def pop(self, seq: int) -> None:
        """Remove a batch once Alertmanager has accepted it."""
        with self._lock:
            if self._items and self._items[0][0] == seq:
                _, size, _ = self._items.popleft()
                self.bytes -= size
                self._path(seq).unlink(missing_ok=True)
