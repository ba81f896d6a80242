"""Config-time checks of label rules: patterns that admit free text and label names that denote a person.

Loaders call these while validating, so ``--check-config`` refuses ``pattern: ".*"`` or a label named
``patient_name`` with the file, the key and the fix, before any value is read.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

MAX_PATTERN_WIDTH = 64
"""Longest label value a pattern may admit: a label is an enumeration, never a paragraph."""

_PERSONAL_LABEL_TOKENS = frozenset(
    {"patient", "pname", "mrn", "phone", "mobile", "tel", "idcard", "idno", "idn", "sfz", "ssn", "email"}
)


def label_name_problem(name: str) -> str | None:
    """Return why a label name denotes personal data (``patient_name``, ``phone``), or None."""
    lowered = name.lower()
    tokens = set(lowered.split("_")) | {lowered.replace("_", "")}
    hit = sorted(tokens & _PERSONAL_LABEL_TOKENS)
    if hit:
        return f"label {name} names personal data ({hit[0]}); export counts by a category instead"
    return None


def _pattern_nodes(tree: Any) -> Iterable[tuple[Any, Any]]:
    for op, arg in tree:
        yield op, arg
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            yield from _pattern_nodes(arg[2])
        elif name == "SUBPATTERN":
            yield from _pattern_nodes(arg[-1])
        elif name == "BRANCH":
            for branch in arg[1]:
                yield from _pattern_nodes(branch)
        elif name in ("ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"):
            yield from _pattern_nodes(arg[-1] if isinstance(arg, tuple) else arg)


def pattern_problem(pattern: str) -> str | None:
    """Return why a label pattern admits free text (unbounded, any character, Han ranges), or None."""
    parser = importlib.import_module("re._parser")  # the stdlib's own regex parser, as re.compile uses
    try:
        tree = parser.parse(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    too_wide = f"admits values longer than {MAX_PATTERN_WIDTH} characters"
    if tree.getwidth()[1] > MAX_PATTERN_WIDTH:
        return too_wide + " (unbounded * + or {n,}); bound every repetition, e.g. [a-z0-9-]{1,32}"
    for op, arg in _pattern_nodes(tree):
        name = str(op)
        if name in ("ANY", "NOT_LITERAL"):
            return "admits any character (. or [^...]); list the characters allowed, e.g. [a-z0-9-]"
        if name != "IN":
            continue
        for item_op, item in arg:
            item_name = str(item_op)
            if item_name == "NEGATE":
                return "admits any character ([^...]); list the characters allowed, e.g. [a-z0-9-]"
            if item_name == "CATEGORY" and str(item) != "CATEGORY_DIGIT":
                return r"admits free text (\w, \s or \S); list the characters allowed, e.g. [a-z0-9-]"
            if item_name == "RANGE" and item[1] > 0x7E:
                return "admits a range of non-ASCII characters (Han names); enumerate the values instead"
    return None
