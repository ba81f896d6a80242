"""hospmon-inventory-exporter: the inventory as metrics, reloaded on SIGHUP or POST /-/reload."""

from __future__ import annotations

import argparse
from collections.abc import Collection, Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporters.core.cli import serve
from exporters.core.probe import Deadline, Exporter, ProbeRequest
from exporters.inventory.collector import inventory_metrics
from exporters.inventory.drift import ObservationFile, drift_metrics
from hospmon.config import ConfigError
from hospmon.inventory import Inventory, load_inventory


class InventoryExporter(Exporter[Inventory]):
    """Serve ``hospmon_ci_info`` and warranty dates on /metrics; it probes nothing."""

    name = "inventory"
    default_port = 9101
    description = "Configuration items, services and departments of the hospital's inventory (CMDB)."
    observed: ObservationFile | None = None

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        """Add ``--topology.observed``: the observation ``hospmon discover`` writes, for drift metrics."""
        parser.add_argument(
            "--topology.observed",
            dest="topology_observed",
            type=Path,
            help="observed.yml from hospmon discover: export drift between the wire and depends_on",
        )

    def use_flags(self, args: argparse.Namespace) -> None:
        """Remember the observation file, if one was given."""
        if args.topology_observed is not None:
            self.observed = ObservationFile(args.topology_observed)

    def load_config(self, path: Path | None) -> Inventory:
        """Load and check the inventory file or folder."""
        if path is None:
            raise ConfigError.single("--config.file", "give the inventory file or folder")
        return load_inventory(path)

    def module_names(self, config: Inventory) -> Collection[str]:
        """Offer no probe modules: everything is on /metrics."""
        return ()

    def probe_module(
        self, config: Inventory, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Never called: there are no modules."""
        return ()

    def collect(self, config: Inventory) -> Iterable[Metric]:
        """Yield the inventory's metrics, and the topology drift when an observation file was given."""
        yield from inventory_metrics(config)
        if self.observed is not None:
            yield from drift_metrics(config, self.observed)


def main(argv: list[str] | None = None) -> int:
    """Run the inventory exporter."""
    return serve(InventoryExporter(), argv)
