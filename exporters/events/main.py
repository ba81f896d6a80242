"""hospmon-event-receiver: SNMP traps and informs and syslog, mapped by rules to Alertmanager alerts.

It serves the exporters' HTTP endpoints (``/metrics``, ``/``, ``/-/healthy``, ``POST /-/reload``) with
their flags (``--config.file``, ``--web.listen-address``, ``--web.config.file``); it probes nothing. A
reload (SIGHUP or ``POST /-/reload``) applies new rules, inventory and sources, and keeps the running
config when the new one has a fault; listener addresses and SNMP credentials need a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporters.core.cli import serve
from exporters.core.probe import Deadline, Exporter, ProbeRequest
from exporters.events.config import EventsConfig, load_config
from exporters.events.receiver import Receiver


class EventReceiver(Exporter[EventsConfig]):
    """Receive events and post alerts; `/metrics` shows what it received, matched, dropped and queued."""

    name = "event-receiver"
    program = "hospmon-event-receiver"
    default_port = 9163
    description = (
        "SNMP traps and informs and syslog, mapped by rules under rules/events/ to Alertmanager alerts."
    )

    def __init__(self) -> None:
        self.receiver: Receiver | None = None

    def load_config(self, path: Path | None) -> EventsConfig:
        """Load the config, its rules and the inventory, reading every secret."""
        return load_config(path, self.refusals)

    def module_names(self, config: EventsConfig) -> Collection[str]:
        """Offer no probe modules: events come to us."""
        return ()

    def probe_module(
        self, config: EventsConfig, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Never called: there are no modules."""
        return ()

    def collect(self, config: EventsConfig) -> Iterable[Metric]:
        """Yield the receiver's counters, queue and alert gauges."""
        return self.receiver.families() if self.receiver is not None else ()

    def start(self, current: Callable[[], EventsConfig]) -> None:
        """Bind the trap and syslog listeners and start receiving."""
        self.receiver = Receiver(current)
        self.receiver.start()

    def stop(self) -> None:
        """Stop receiving, queue what is due and save the open alerts."""
        if self.receiver is not None:
            self.receiver.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the event receiver until it is stopped."""
    return serve(EventReceiver(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
