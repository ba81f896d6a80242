"""Alerts as Prometheus would post them: the rule's name and severity, the target's labels, its summary."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from hospmon.inventory import Inventory
from tests.scenarios.model import AlertRef

REPO = Path(__file__).resolve().parents[2]
_TEMPLATE = re.compile(r"\{\{\s*\$labels\.(\w+)\s*\}\}")
_OTHER = re.compile(r"\{\{.*?\}\}")


@cache
def shipped_rules() -> dict[str, dict[str, Any]]:
    """Return every alerting rule of rules/*.yml by alert name."""
    rules: dict[str, dict[str, Any]] = {}
    for path in sorted((REPO / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.update({r["alert"]: r for r in group["rules"] if "alert" in r})
    return rules


def labels_of(ref: AlertRef, inv: Inventory, scenario: str) -> dict[str, str]:
    """Return the labels of an alert: rule, target (file_sd labels of its CI), the scenario's extras."""
    rule = shipped_rules().get(ref.alertname)
    if ref.external:
        if ref.severity is None:
            raise ValueError(f"{ref.alertname}: an external alert needs its severity")
        severity = ref.severity
    elif rule is None:
        raise ValueError(f"{ref.alertname} is not a rule in rules/*.yml; mark it external: true")
    elif ref.severity is not None:
        raise ValueError(f"{ref.alertname}: the severity comes from its rule; drop severity")
    else:
        severity = rule["labels"]["severity"]
    labels = {"alertname": ref.alertname, "severity": severity, "scenario": scenario}
    if ref.ci:
        labels["ci"] = ref.ci
        ci = inv.cis.get(ref.ci)
        if ci is not None:
            labels["service"] = ci.service
            labels["department"] = inv.department_of(ci.id)
            labels["tier"] = str(inv.services[ci.service].tier)
            if ci.monitor:
                labels["job"] = ci.monitor[0].exporter
                labels["instance"] = ci.monitor[0].target or ci.address or ""
    labels.update(ref.labels)
    return {k: v for k, v in labels.items() if v}


def summary_of(ref: AlertRef, labels: dict[str, str]) -> str:
    """Fill the rule's summary with the labels (values it would compute read as "...")."""
    rule = shipped_rules().get(ref.alertname)
    text = str(rule.get("annotations", {}).get("summary", "")) if rule else ""
    if not text:
        return f"{ref.alertname} on {ref.ci or 'no CI'}"
    return _OTHER.sub("...", _TEMPLATE.sub(lambda m: labels.get(m[1], ""), text))


def iso(when: dt.datetime) -> str:
    """Write a time as Alertmanager's API takes it."""
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def posted(labels: dict[str, str], summary: str, starts: dt.datetime, ends: dt.datetime) -> dict[str, Any]:
    """Return the body Prometheus posts for one alert."""
    return {
        "labels": labels,
        "annotations": {"summary": summary},
        "startsAt": iso(starts),
        "endsAt": iso(ends),
        "generatorURL": "http://prometheus.hospital.example:9090/graph",
    }
