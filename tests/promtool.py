"""Feed promtool's rule tests with what an exporter really served, captured in the test, not typed by hand."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import require

RULES = Path(__file__).resolve().parent.parent / "rules"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def captured_series(
    exposition: str, names: Iterable[str], labels: dict[str, str], values: str
) -> list[dict[str, str]]:
    """Return promtool input series for the samples named `names`, with scrape labels added, each holding
    the sample's value as `values` says (``{v}`` stands for it, e.g. ``"{v}x30"``)."""
    wanted = set(names)
    out = []
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name not in wanted:
                continue
            merged = {**sample.labels, **labels}
            text = ",".join(f'{k}="{_quote(v)}"' for k, v in sorted(merged.items()))
            number = repr(float(sample.value)) if sample.value == sample.value else "NaN"
            out.append({"series": f"{sample.name}{{{text}}}", "values": values.format(v=number)})
    if not out:
        raise AssertionError(f"the exposition holds none of {sorted(wanted)}")
    return out


def run_rule_test(
    folder: Path, rule_file: str, series: list[dict[str, str]], alert_tests: list[dict[str, Any]]
) -> None:
    """Write a promtool test of `rule_file` (under rules/) over `series` and fail with promtool's words."""
    test = {
        "rule_files": [str(RULES / rule_file)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": alert_tests}],
    }
    path = folder / "captured_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [require("promtool"), "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
