"""Mirth Connect (NextGen Connect) through its REST API: channel states, statistics, queues, newest message.

Requests, all under the module's path (``/api``), with ``Accept: application/json`` and the
``X-Requested-With`` header the API asks of clients:

- ``GET /channels/statuses``: the dashboard status of each deployed channel (state, lifetime statistics by
  message status, queued messages);
- ``GET /server/version``: the server's version (text);
- with ``mirth.last_message``, ``GET /channels/{id}/messages?limit=1&includeContent=false`` per channel:
  the newest message's received date. Message content is never asked for; the answer is read for that date
  and dropped.

Mirth serialises lists through XStream: a list of one comes as an object, an empty one as ``""``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from prometheus_client.metrics_core import Metric

from exporters.core.http import HttpResult, auth_headers, fetch, session_metrics
from exporters.core.probe import ProbeFailed
from exporters.middleware.engines import Channel, channel_metrics, number
from exporters.middleware.request import ModuleProbe

HEADERS = {"Accept": "application/json", "X-Requested-With": "hospmon"}
STATUS_KEY = "com.mirth.connect.donkey.model.message.Status"
# Mirth's DeployedState words and ours.
STATES = {
    "STARTED": "started",
    "PAUSED": "paused",
    "PAUSING": "paused",
    "STOPPED": "stopped",
    "UNDEPLOYED": "stopped",
    "STOPPING": "stopping",
    "UNDEPLOYING": "stopping",
    "STARTING": "starting",
    "SYNCING": "starting",
    "DEPLOYING": "deploying",
}
COUNTED = {"RECEIVED": "received", "SENT": "sent", "ERROR": "errored", "FILTERED": "filtered"}


def as_list(value: Any) -> list[Any]:
    """Return an XStream list as a Python list: one element comes bare, none as "" or null."""
    if isinstance(value, list):
        return value
    if value is None or value == "":
        return []
    return [value]


def _items(document: Any, element: str) -> list[Any]:
    """Return the elements of an XStream ``{"list": {element: ...}}`` answer."""
    if not isinstance(document, dict):
        raise ProbeFailed("bad_response", "expected a JSON object")
    inner = document.get("list", document)
    if inner is None or inner == "":
        return []
    if not isinstance(inner, dict):
        raise ProbeFailed("bad_response", "expected a list object")
    return [x for x in as_list(inner.get(element)) if isinstance(x, dict)]


def _statistics(status: dict[str, Any]) -> dict[str, float]:
    """Return the status's statistics by our names, lifetime figures first (they survive a reset)."""
    stats = status.get("lifetimeStatistics") or status.get("statistics")
    entries = as_list(stats.get("entry")) if isinstance(stats, dict) else []
    out: dict[str, float] = {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get(STATUS_KEY) in COUNTED:
            value = number(entry.get("long"))
            if value is not None:
                out[COUNTED[entry[STATUS_KEY]]] = value
    return out


def parse_statuses(document: Any) -> list[tuple[str, Channel]]:
    """Return (channel id, channel) for each dashboard status of a ``/channels/statuses`` answer."""
    found = []
    for status in _items(document, "dashboardStatus"):
        name = status.get("name")
        if not isinstance(name, str) or not name:
            continue
        state = status.get("state")
        channel = Channel(name, STATES.get(state, "unknown") if isinstance(state, str) else None)
        for what, value in _statistics(status).items():
            setattr(channel, what, value)
        channel.queued = number(status.get("queued"))
        found.append((str(status.get("channelId", "")), channel))
    return found


def newest_received(document: Any) -> float | None:
    """Return the Unix time of the first message of a ``/channels/{id}/messages`` answer, if any."""
    messages = _items(document, "message")
    if not messages:
        return None
    received = messages[0].get("receivedDate")
    millis = number(received.get("time")) if isinstance(received, dict) else number(received)
    return None if millis is None else millis / 1000


class _Client:
    """GETs under one Mirth's API with one module's settings, authenticating once per probe."""

    def __init__(self, probe: ModuleProbe) -> None:
        self.probe = probe
        self.first = HttpResult()
        self.auth = auth_headers(probe.spec.http, probe.auths, probe.file, probe.deadline, self.first)

    def get(self, path: str, accept: str = "application/json", first: bool = False) -> HttpResult:
        result = self.first if first else HttpResult()
        headers = {**HEADERS, "Accept": accept}
        fetch(f"{self.probe.base}{path}", self.probe.spec.http, self.probe.deadline, headers=headers,
              auth=self.auth, result=result)  # fmt: skip
        return result


def mirth_metrics(probe: ModuleProbe) -> list[Metric]:
    """Read the channel statuses (and, if asked, each channel's newest message) and the version."""
    client, spec = _Client(probe), probe.spec
    undeployed = "true" if spec.mirth_spec().include_undeployed else "false"
    statuses = parse_statuses(
        client.get(f"/channels/statuses?includeUndeployed={undeployed}", first=True).json()
    )
    if spec.mirth_spec().last_message:
        for channel_id, channel in statuses:
            if channel_id:
                path = f"/channels/{quote(channel_id, safe='')}/messages?limit=1&includeContent=false"
                channel.last_message = newest_received(client.get(path).json())
    version_body = client.get("/server/version", accept="text/plain").body
    version = version_body.decode("utf-8", errors="replace").strip().strip('"')
    out = channel_metrics(probe.module, "mirth", version, [c for _, c in statuses], probe.redact)
    return out + session_metrics(probe.module, client.first)
