"""Console entry point: ``hospmon-network-exporter --config.file=network.yml``."""

from __future__ import annotations

from exporters.core.cli import serve
from exporters.network.exporter import NetworkExporter


def main(argv: list[str] | None = None) -> int:
    """Run the network exporter's HTTP server until it is stopped."""
    return serve(NetworkExporter(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
