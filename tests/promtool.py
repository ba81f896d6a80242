"""Feed promtool's rule tests with what an exporter really served, captured in the test, not typed by hand."""

from __future__ import annotations

import re
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


def captured_sequence(
    expositions: list[str], names: Iterable[str], labels: dict[str, str]
) -> list[dict[str, str]]:
    """Return promtool input series whose values are the samples of successive expositions, one a minute
    (``_`` where a scrape lacked the series)."""
    steps = [{s["series"]: s["values"] for s in captured_series(e, names, labels, "{v}")}
             for e in expositions]  # fmt: skip
    keys = list(dict.fromkeys(k for step in steps for k in step))
    return [{"series": k, "values": " ".join(step.get(k, "_") for step in steps)} for k in keys]


def run_rule_test(
    folder: Path, rule_file: str | list[str], series: list[dict[str, str]], alert_tests: list[dict[str, Any]]
) -> None:
    """Write a promtool test of `rule_file` (under rules/; several for rules that use each other's records)
    over `series` and fail with promtool's words."""
    files = [rule_file] if isinstance(rule_file, str) else rule_file
    test = {
        "rule_files": [str(RULES / f) for f in files],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": alert_tests}],
    }
    path = folder / "captured_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [require("promtool"), "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


_LABEL_ACTION = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def expected_alert(rule_file: str, alertname: str, labels: dict[str, str]) -> dict[str, Any]:
    """Return a promtool ``exp_alerts`` entry for `alertname` with `labels` (the rule's own labels are
    added) and its annotations filled in; only ``{{ $labels.x }}`` actions are filled, so a rule whose
    annotations show ``$value`` or call functions needs its expected text written out by the test."""
    groups = yaml.safe_load((RULES / rule_file).read_text(encoding="utf-8"))["groups"]
    rules = [r for g in groups for r in g["rules"] if r.get("alert") == alertname]
    # An alert may have one rule per severity (clinic hours and off hours): a given severity picks one.
    rule = next(
        r for r in rules if labels.get("severity", r["labels"]["severity"]) == r["labels"]["severity"]
    )
    merged = {**labels, **rule.get("labels", {})}
    annotations = {}
    for key, template in rule.get("annotations", {}).items():
        text = _LABEL_ACTION.sub(lambda m: merged.get(m[1], ""), template)
        if "{{" in text:
            raise AssertionError(f"{alertname}.{key} has template actions beyond $labels: write it out")
        annotations[key] = text
    return {"exp_labels": merged, "exp_annotations": annotations}
