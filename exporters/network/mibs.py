"""Read vendor MIB files from folders with pysmi (never from the network) into one table of objects.

The SMI base modules (SNMPv2-SMI, SNMPv2-TC, RFC1155-SMI, ...) are needed to resolve any MIB's imports.
Debian and many vendor bundles leave the IETF's out; hospmon ships its own minimal statements of their
names and numbers in ``smi/`` (not the RFCs' text), searched after the user's folders, so a folder holding
only the vendor's MIB compiles. A full base module in the user's folder wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporters.network.ber import parse_oid

SMI_DIR = Path(__file__).parent / "smi"


class MibError(Exception):
    """A MIB could not be found or compiled; the message names it and why."""


@dataclass
class MibTree:
    """Every object and textual convention of the compiled MIBs, by name and by OID."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    conventions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_oid: dict[tuple[int, ...], str] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)

    def add(self, module: str, document: dict[str, Any]) -> None:
        """Add one compiled module's JSON document."""
        self.modules.append(module)
        for name, node in document.items():
            if not isinstance(node, dict):
                continue
            if node.get("class") == "textualconvention":
                self.conventions[name] = node
            elif "oid" in node:
                self.objects[name] = {**node, "module": module}
                self.by_oid[parse_oid(node["oid"])] = name

    def find(self, ref: str) -> dict[str, Any]:
        """Return the node named `ref` (``upsBasicBatteryStatus`` or ``PowerNet-MIB::...``) or at an OID."""
        name = ref.rsplit("::", maxsplit=1)[-1]
        if name in self.objects:
            return self.objects[name]
        if name[:1].isdigit():
            found = self.by_oid.get(parse_oid(name))
            if found:
                return self.objects[found]
        raise MibError(f"{ref} is in none of the compiled MIBs ({', '.join(self.modules) or 'none'})")

    def below(self, oid: tuple[int, ...]) -> list[dict[str, Any]]:
        """Return the nodes at or below `oid`, in OID order."""
        return [self.objects[self.by_oid[o]] for o in sorted(self.by_oid) if o[: len(oid)] == oid]


def compile_mibs(folders: Sequence[Path], modules: Iterable[str]) -> MibTree:
    """Compile `modules` (MIB module names) and what they import from `folders` into a `MibTree`."""
    from pysmi.codegen import JsonCodeGen
    from pysmi.compiler import MibCompiler
    from pysmi.parser import SmiStarParser
    from pysmi.reader import FileReader
    from pysmi.searcher import StubSearcher
    from pysmi.writer import CallbackWriter

    documents: dict[str, str] = {}
    compiler = MibCompiler(
        SmiStarParser(),
        JsonCodeGen(),
        CallbackWriter(lambda name, text, _ctx: documents.__setitem__(name, text)),
    )
    for folder in folders:
        if not folder.is_dir():
            raise MibError(f"MIB folder {folder} does not exist")
    compiler.add_sources(*(FileReader(str(f)) for f in [*folders, SMI_DIR]))
    compiler.add_searchers(StubSearcher(*JsonCodeGen.baseMibs))
    wanted = list(modules)
    results = compiler.compile(*wanted, genTexts=True)
    faults = []
    for name, status in results.items():
        if str(status) == "missing":
            faults.append(f"{name}: no such MIB file in {', '.join(map(str, folders))}")
        elif str(status) == "failed":
            faults.append(f"{name}: {getattr(status, 'error', 'cannot be compiled')}")
    if faults:
        raise MibError("; ".join(faults))
    tree = MibTree()
    for name, text in documents.items():
        tree.add(name, json.loads(text))
    return tree
