"""Checks on an HTTP response body: regular expressions and values at a dotted JSON path.

A failed check names itself in the failure detail, never the body: bodies may hold patient data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from exporters.core.httpconfig import HttpSpec, JsonCheck
from exporters.core.probe import ProbeFailed


def _walk(document: Any, path: str) -> Iterator[Any]:
    """Yield the value at a dotted path such as ``entry.0.resource.total`` or ``entry[0].total``."""
    node = document
    for part in path.replace("[", ".").replace("]", "").split("."):
        if part == "":
            continue
        if isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return
    yield node


def value_at(document: Any, path: str) -> Any:
    """Return the value at a dotted path of a JSON document, or None when the path leads nowhere."""
    return next(_walk(document, path), None)


def json_check_holds(document: Any, check: JsonCheck) -> bool:
    """Tell whether the value at the check's path compares with its value as the check says."""
    found = list(_walk(document, check.path))
    if check.op == "exists":
        return bool(found)
    if not found:
        return False
    value = found[0]
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if check.op in {"eq", "ne"}:
        if numeric and isinstance(check.value, float):
            equal = float(value) == check.value
        else:
            equal = type(value) is type(check.value) and value == check.value
        return equal if check.op == "eq" else not equal
    if not numeric or not isinstance(check.value, float):
        return False
    actual, limit = float(value), check.value
    comparisons = {"lt": actual < limit, "le": actual <= limit, "gt": actual > limit, "ge": actual >= limit}
    return comparisons[check.op]


def run_checks(spec: HttpSpec, body: bytes) -> None:
    """Run the module's regex and JSON checks on the body; fail with check_failed naming the check."""
    text = body.decode("utf-8", errors="replace")
    for pattern in spec.body_regex:
        if not pattern.search(text):
            raise ProbeFailed("check_failed", f"body_regex {pattern.pattern!r} did not match")
    for pattern in spec.body_not_regex:
        if pattern.search(text):
            raise ProbeFailed("check_failed", f"body_not_regex {pattern.pattern!r} matched")
    if spec.json_checks:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProbeFailed("check_failed", "body is not JSON") from exc
        for check in spec.json_checks:
            if not json_check_holds(document, check):
                raise ProbeFailed("check_failed", f"json check {check.name} did not hold")
