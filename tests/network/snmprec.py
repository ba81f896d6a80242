"""Write ``.snmprec`` recordings (snmpsim's ``OID|type|value`` lines) from a vendor MIB's structure."""

from __future__ import annotations

from collections.abc import Mapping

# snmprec type codes (BER tags) by the name the builders use
TYPES = {
    "int": "2",
    "str": "4",
    "hex": "4x",
    "oid": "6",
    "ip": "64",
    "counter": "65",
    "gauge": "66",
    "ticks": "67",
    "counter64": "70",
}
Cell = tuple[str, object]


def _key(oid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in oid.split("."))


class Snmprec:
    """A recording being built: scalars and table rows, written sorted by OID as snmpsimd needs."""

    def __init__(self) -> None:
        self.cells: dict[str, Cell] = {}

    def add(self, oid: str, kind: str, value: object) -> Snmprec:
        """Add one object instance."""
        if kind not in TYPES:
            raise ValueError(f"unknown snmprec type {kind}")
        self.cells[oid] = (kind, value)
        return self

    def scalars(self, base: str, values: Mapping[int, Cell]) -> Snmprec:
        """Add scalars ``base.N.0`` for each N."""
        for sub, (kind, value) in values.items():
            self.add(f"{base}.{sub}.0", kind, value)
        return self

    def table(self, entry: str, rows: Mapping[str | int, Mapping[int, Cell]]) -> Snmprec:
        """Add a table: ``entry.column.index`` for each row index and column."""
        for index, columns in rows.items():
            for col, (kind, value) in columns.items():
                self.add(f"{entry}.{col}.{index}", kind, value)
        return self

    def system(self, descr: str, object_id: str, name: str, uptime_ticks: int = 8_640_000) -> Snmprec:
        """Add the SNMPv2-MIB system group."""
        return self.scalars(
            "1.3.6.1.2.1.1",
            {
                1: ("str", descr),
                2: ("oid", object_id),
                3: ("ticks", uptime_ticks),
                4: ("str", "it-noc@hospital.example"),
                5: ("str", name),
                6: ("str", "Building 2"),
            },
        )

    def text(self) -> str:
        """Return the recording, one ``OID|type|value`` line per instance, in OID order."""
        lines = []
        for oid in sorted(self.cells, key=_key):
            kind, value = self.cells[oid]
            text = str(value)
            if kind == "str" and not text.isascii():
                kind, text = "hex", text.encode().hex()
            lines.append(f"{oid}|{TYPES[kind]}|{text}")
        return "\n".join(lines) + "\n"
