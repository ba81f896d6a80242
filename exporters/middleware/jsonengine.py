"""Any integration engine with a JSON status API: ``engine_json`` settings say where each figure is.

For an ESB answering ``{"version": "3.2", "data": {"channels": [{"name": "HIS-LIS", "status": "RUNNING",
"stats": {"in": 10, "out": 9, "err": 1}, "queue": 0, "lastMessageTime": "2026-03-02T08:00:00+08:00"}]}}``::

    engine_json: {channels: data.channels, name: name, state: status, states: {RUNNING: started},
                  received: stats.in, sent: stats.out, errored: stats.err, queued: queue,
                  last_message: lastMessageTime, version: version}

``channels`` may also lead to an object keyed by channel name; then ``name`` is not read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prometheus_client.metrics_core import Metric

from exporters.core.http import http_metrics, http_probe
from exporters.core.httpchecks import value_at
from exporters.core.probe import ProbeFailed
from exporters.middleware.config import JsonEngineSpec
from exporters.middleware.engines import COUNTS, Channel, channel_metrics, number
from exporters.middleware.request import ModuleProbe


def _timestamp(value: Any, form: str) -> float | None:
    """Return a last-message time as Unix seconds; None when it is missing or not in the given form."""
    if form == "iso8601":
        if not isinstance(value, str) or not value:
            return None
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        # A time without a zone is the engine's local time; only its offset is unknowable, so refuse it.
        return when.timestamp() if when.tzinfo is not None else None
    seconds = number(value)
    if seconds is None:
        return None
    return seconds / 1000 if form == "epoch_millis" else seconds


def _entries(document: Any, spec: JsonEngineSpec) -> list[tuple[str, Any]]:
    """Return (name, channel object) pairs from wherever the settings say the channels are."""
    found = value_at(document, spec.channels) if spec.channels else document
    if isinstance(found, dict):
        return [(str(k), v) for k, v in found.items() if isinstance(v, dict)]
    if isinstance(found, list):
        pairs = []
        for item in found:
            name = value_at(item, spec.name) if isinstance(item, dict) else None
            if isinstance(name, str | int) and str(name):
                pairs.append((str(name), item))
        return pairs
    raise ProbeFailed("bad_response", f"no channel list at {spec.channels or 'the top'}")


def parse_channels(document: Any, spec: JsonEngineSpec) -> list[Channel]:
    """Return the channels of an engine's JSON answer as the settings map them."""
    folded = {k.casefold(): v for k, v in spec.states.items()}
    channels = []
    for name, item in _entries(document, spec):
        channel = Channel(name)
        if spec.state is not None:
            word = value_at(item, spec.state)
            channel.state = folded.get(str(word).casefold(), "unknown") if word is not None else None
        for what in (*COUNTS, "queued"):
            path = getattr(spec, what)
            if path is not None:
                setattr(channel, what, number(value_at(item, path)))
        if spec.last_message is not None:
            channel.last_message = _timestamp(value_at(item, spec.last_message), spec.last_message_format)
        channels.append(channel)
    return channels


def json_engine_metrics(probe: ModuleProbe) -> list[Metric]:
    """GET the engine's status document, run the module's checks, and map its channels."""
    settings = probe.spec.engine_json
    assert settings is not None  # the config refuses engine_json modules without settings
    result = http_probe(probe.base, probe.spec.http, probe.auths, probe.file, probe.deadline,
                        headers={"Accept": "application/json"})  # fmt: skip
    document = result.json()
    version = value_at(document, settings.version) if settings.version else None
    channels = parse_channels(document, settings)
    version_text = str(version) if isinstance(version, str | int | float) else None
    metrics = channel_metrics(probe.module, "json", version_text, channels, probe.redact)
    return metrics + http_metrics(probe.module, result)
