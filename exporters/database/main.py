"""Console entry point: ``hospmon-database-exporter``."""

from __future__ import annotations

import sys

from exporters.core.cli import serve
from exporters.database.exporter import DatabaseExporter


def main(argv: list[str] | None = None) -> int:
    """Serve the database exporter."""
    return serve(DatabaseExporter(), argv)


if __name__ == "__main__":
    sys.exit(main())
