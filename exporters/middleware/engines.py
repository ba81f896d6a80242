"""What an integration engine's channels say, as metrics: one shape whichever engine answered.

Sample (module ``mirth``; one series per channel, named as the engine names it)::

    hospmon_engine_info{module="mirth",engine="mirth",version="4.5.2"} 1
    hospmon_engine_channel_up{module="mirth",channel="HIS ADT to LIS"} 1
    hospmon_engine_channel_state{module="mirth",channel="HIS ADT to LIS",state="started"} 1
    hospmon_engine_channel_received_messages_total{module="mirth",channel="HIS ADT to LIS"} 182311
    hospmon_engine_channel_sent_messages_total{module="mirth",channel="HIS ADT to LIS"} 182290
    hospmon_engine_channel_errored_messages_total{module="mirth",channel="HIS ADT to LIS"} 21
    hospmon_engine_channel_queued_messages{module="mirth",channel="HIS ADT to LIS"} 0
    hospmon_engine_channel_last_message_timestamp_seconds{module="mirth",channel="HIS ADT to LIS"} 1.77e+09
    hospmon_engine_channels{module="mirth",state="started"} 7

Only counts, states and times: message content never leaves the engine through this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from exporters.middleware.config import STATES

MAX_LABEL = 100
COUNTS = ("received", "sent", "errored", "filtered")


@dataclass
class Channel:
    """One channel (interface) of an engine, as its API described it; None where it said nothing."""

    name: str
    state: str | None = None
    received: float | None = None
    sent: float | None = None
    errored: float | None = None
    filtered: float | None = None
    queued: float | None = None
    last_message: float | None = None
    """Unix time of the newest message."""


def channel_metrics(
    module: str, engine: str, version: str | None, channels: Iterable[Channel], redact: Callable[[str], str]
) -> list[Metric]:
    """Return the families of an engine's channels; `redact` passes each channel name through the guard."""
    up = GaugeMetricFamily(
        "hospmon_engine_channel_up",
        "1 when the channel is started (taking and passing messages).",
        labels=["module", "channel"],
    )
    state = GaugeMetricFamily(
        "hospmon_engine_channel_state",
        "The channel's state: 1 for the one it is in.",
        labels=["module", "channel", "state"],
    )
    counts = {
        what: CounterMetricFamily(
            f"hospmon_engine_channel_{what}_messages", f"Messages {what}.", labels=["module", "channel"]
        )
        for what in COUNTS
    }
    queued = GaugeMetricFamily(
        "hospmon_engine_channel_queued_messages",
        "Messages waiting in the channel's queues.",
        labels=["module", "channel"],
    )
    last = GaugeMetricFamily(
        "hospmon_engine_channel_last_message_timestamp_seconds",
        "When the channel's newest message came.",
        labels=["module", "channel"],
    )
    by_state: Counter[str] = Counter()
    for channel in channels:
        labels = [module, redact(channel.name[:MAX_LABEL])]
        if channel.state is not None:
            current = channel.state if channel.state in STATES else "unknown"
            by_state[current] += 1
            up.add_metric(labels, 1 if current == "started" else 0)
            state.add_metric([*labels, current], 1)
        for what, family in counts.items():
            value = getattr(channel, what)
            if value is not None:
                family.add_metric(labels, value)
        if channel.queued is not None:
            queued.add_metric(labels, channel.queued)
        if channel.last_message is not None:
            last.add_metric(labels, channel.last_message)
    totals = GaugeMetricFamily(
        "hospmon_engine_channels", "Channels of the engine, by state.", labels=["module", "state"]
    )
    for name in STATES:
        totals.add_metric([module, name], by_state[name])
    info = GaugeMetricFamily(
        "hospmon_engine_info",
        "The integration engine and its version.",
        labels=["module", "engine", "version"],
    )
    info.add_metric([module, engine, (version or "")[:64]], 1)
    return [info, up, state, *counts.values(), queued, last, totals]


def number(value: object) -> float | None:
    """Return a JSON value as a count: numbers and numeric strings; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
