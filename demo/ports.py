"""The demo's fixed ports (docs/demo-ports.md), moved by one offset so a second demo runs beside the first.

`make demo` runs at offset 0; the demo tests set ``HOSPMON_DEMO_PORT_OFFSET`` (the launcher's
``--port-offset``), so they pass while `make demo` runs. Every process of the demo inherits the variable.
Config files copied into the run folder (the inventory, Prometheus, Alertmanager and exporter configs) get
their demo ports moved by `shift_text`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

OFFSET_ENV = "HOSPMON_DEMO_PORT_OFFSET"
# The monitoring parts' demo ports; each area's own are in its module of demo/parts/.
PROMETHEUS, ALERTMANAGER, INVENTORY_EXPORTER, ROUTER = 19090, 19093, 19101, 19180
# Every demo port lies in this range; an offset must keep them below Linux's ephemeral ports (32768 and
# up), where outgoing connections and the tests' free ports would take them.
LOW, HIGH = 11000, 20000
EPHEMERAL = 32768
_PORT = re.compile(r"(?<=127\.0\.0\.1:)\d{5}\b|(?<=localhost:)\d{5}\b|(?<=port: )\d{5}\b")


def offset() -> int:
    """Return the port offset of this demo (0 unless ``HOSPMON_DEMO_PORT_OFFSET`` says otherwise)."""
    text = os.environ.get(OFFSET_ENV, "0")
    value = int(text) if text.strip().lstrip("-").isdigit() else -1
    if not 0 <= value <= EPHEMERAL - HIGH:
        raise ValueError(f"{OFFSET_ENV}={text!r}: give a whole number from 0 to {EPHEMERAL - HIGH}")
    return value


def port(demo_port: int) -> int:
    """Return where a demo port listens in this demo."""
    return demo_port + offset()


def addr(demo_port: int) -> str:
    """Return ``127.0.0.1:PORT`` for a demo port."""
    return f"127.0.0.1:{port(demo_port)}"


def url(demo_port: int, path: str = "") -> str:
    """Return ``http://127.0.0.1:PORT`` and a path for a demo port."""
    return f"http://{addr(demo_port)}{path}"


def shift_text(text: str) -> str:
    """Move every demo port written as ``127.0.0.1:PORT``, ``localhost:PORT`` or ``port: PORT``."""
    moved = offset()

    def shift(match: re.Match[str]) -> str:
        number = int(match.group())
        return str(number + moved) if LOW <= number < HIGH else match.group()

    return _PORT.sub(shift, text) if moved else text


def copy_config(source: Path, target: Path) -> Path:
    """Copy a config file (or a folder of them) into the run folder with its demo ports moved."""
    if source.is_dir():
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for child in sorted(source.iterdir()):
            if child.is_file():
                copy_config(child, target / child.name)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(shift_text(source.read_text(encoding="utf-8")), encoding="utf-8")
    return target
