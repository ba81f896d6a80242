"""Each package imports only the layers below it (docs: ARCHITECTURE): the shared model imports neither the
router, an exporter, a simulator nor the demo launcher; exporters never the router; the router never an
exporter; nothing but tests imports the demo. Imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    # hospmon.demo* and hospmon.simulate: where the demo launcher and its parts once lived.
    "hospmon": ("alertrouter", "exporters", "demo", "tests", "hospmon.demo", "hospmon.simulate"),
    "exporters": ("alertrouter", "demo", "tests"),
    "alertrouter": ("exporters", "demo", "tests"),
    "demo": ("tests",),
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(REPO)} imports {name}"
        for path in sorted((REPO / package).rglob("*.py"))
        for name in _imports(path)
        if any(
            name == p or name.startswith(p + ("" if p.startswith("hospmon.") else "."))
            for p in FORBIDDEN[package]
        )
    ]
    assert not wrong, wrong


def test_the_model_names_no_component_even_by_string() -> None:
    # importlib.import_module("alertrouter.cli") was how the CLI once reached the router: entry points now.
    for path in sorted((REPO / "hospmon").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for component in ("alertrouter", "demo.launcher", "demo.parts"):
            assert f'"{component}' not in text, f"{path.relative_to(REPO)} names {component}"
