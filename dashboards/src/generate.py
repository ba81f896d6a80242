"""Write the generated Grafana dashboards into dashboards/ (`make dashboards`), or check they are current.

python dashboards/src/generate.py            # write dashboards/*.json
python dashboards/src/generate.py --check    # exit 1 when a checked-in file differs from the code
python dashboards/src/generate.py --out DIR  # write elsewhere
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import estate
import incidents
import inventory
import middleware
import status_board
from grafana_foundation_sdk.builders import dashboard
from panels import render

DASHBOARDS = Path(__file__).resolve().parent.parent
# File name -> builder. Other dashboards in dashboards/ are hand-written and left alone.
GENERATED: dict[str, Callable[[], dashboard.Dashboard]] = {
    "status_board.json": status_board.build,
    "incidents.json": incidents.build,
    "inventory.json": inventory.build,
    "middleware.json": middleware.build,
    "estate.json": estate.build,
}


def rendered() -> dict[str, str]:
    """Each generated dashboard's file name and JSON text."""
    return {name: render(build()) for name, build in GENERATED.items()}


def main(argv: list[str] | None = None) -> int:
    """Write or check the generated dashboards."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=DASHBOARDS)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for name, text in rendered().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `make dashboards`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
