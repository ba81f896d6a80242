"""Load rule files and folders, and check what the schema cannot: names, templates, keys and resolves.

Every fault names the file, the rule and the key; a file with a fault still has its other rules checked, so
one start-up reports everything to fix.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from exporters.events.rules import TEMPLATE_RE, Rule, RuleFile, RuleSet
from hospmon.config import ConfigError, ConfigFault, load_yaml, validate
from hospmon.phi_patterns import label_name_problem

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ALERT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Labels the receiver sets itself from the inventory and the event; a rule may not override them.
RESERVED_LABELS = frozenset({"alertname", "severity", "ci", "service", "department", "tier", "source"})
BUILTIN = {
    "trap": frozenset({"ci", "sender", "trap"}),
    "syslog": frozenset({"ci", "sender", "host", "app"}),
}


def _available(rule: Rule, resolve: bool) -> set[str]:
    spec = rule.resolve if resolve else rule
    assert spec is not None
    if rule.kind == "trap":
        return set(rule.fields) | BUILTIN["trap"]
    pattern = spec.syslog
    assert pattern is not None
    return set(re.compile(pattern).groupindex) | BUILTIN["syslog"]


def check_rule(rule: Rule) -> Iterable[tuple[str, str]]:
    """Yield ``(key, problem)`` for what pydantic cannot see: names, templates, keys and the resolve."""
    if not NAME_RE.match(rule.name):
        yield "name", "use lower case letters, digits and underscores, starting with a letter"
    if not ALERT_RE.match(rule.alert):
        yield "alert", f"{rule.alert!r} is not a valid alert name (letters, digits, underscores)"
    if rule.kind == "syslog" and rule.fields:
        yield "fields", "syslog rules take their fields from the pattern's named groups (?P<name>...)"
    if rule.kind == "trap" and rule.app:
        yield "app", "app is for syslog rules"
    known = _available(rule, resolve=False)
    for name in rule.labels:
        if not LABEL_RE.match(name) or name.startswith("__"):
            yield f"labels.{name}", "not a Prometheus label name"
        elif (problem := label_name_problem(name)) is not None:
            yield f"labels.{name}", problem
        elif name in RESERVED_LABELS:
            yield (
                f"labels.{name}",
                f"set by the receiver; rules may not set {', '.join(sorted(RESERVED_LABELS))}",
            )
    templates = {f"labels.{k}": v for k, v in rule.labels.items()}
    templates.update(summary=rule.summary, summary_zh=rule.summary_zh, description=rule.description)
    for key, template in templates.items():
        for name in TEMPLATE_RE.findall(template):
            if name not in known:
                yield key, f"unknown field {{{name}}}; known: {', '.join(sorted(known))}"
    for i, name in enumerate(rule.key):
        if name not in known:
            yield f"key[{i}]", f"unknown field {name!r}; known: {', '.join(sorted(known))}"
    for name in rule.when:
        if name not in known:
            yield f"when.{name}", f"unknown field {name!r}; known: {', '.join(sorted(known))}"
    yield from _check_resolve(rule)


def _check_resolve(rule: Rule) -> Iterable[tuple[str, str]]:
    if rule.resolve is None:
        if rule.expire_seconds is None:
            yield "resolve", "give resolve or expire_seconds (or both): otherwise the alert never ends"
        return
    spec = rule.resolve
    if (spec.trap is None) == (spec.syslog is None):
        yield "resolve", "give exactly one of trap and syslog"
        return
    if (spec.trap is not None) != (rule.kind == "trap"):
        yield "resolve", f"a {rule.kind} rule is resolved by a {rule.kind} event"
        return
    known = _available(rule, resolve=True)
    for name in rule.key:
        if name not in known:
            yield "resolve.syslog", f"the pattern must capture the key field (?P<{name}>...)"
    for name in spec.when:
        if name not in known:
            yield f"resolve.when.{name}", f"unknown field {name!r}; known: {', '.join(sorted(known))}"


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    return [path]


def _salvage(data: object) -> list[Rule]:
    """Return the valid rules of a file with faults, so their own checks still run and report."""
    entries = data.get("rules") if isinstance(data, dict) else None
    valid = []
    for entry in entries if isinstance(entries, list) else []:
        with contextlib.suppress(ValidationError):
            valid.append(Rule.model_validate(entry))
    return valid


def load_rules(paths: Sequence[str | Path]) -> RuleSet:
    """Load rule files and folders, raising one `ConfigError` with every fault (file, rule and key)."""
    faults: list[ConfigFault] = []
    rules: list[Rule] = []
    where: dict[str, str] = {}
    for path in map(Path, paths):
        if not path.exists():
            faults.append(ConfigFault(str(path), "", "", "no such file or folder"))
            continue
        for file in _files(path):
            try:
                data = load_yaml(file)
            except ConfigError as exc:
                faults.extend(exc.faults)
                continue
            try:
                valid = validate(RuleFile, data, file, id_field="name").rules
            except ConfigError as exc:
                faults.extend(exc.faults)
                valid = _salvage(data)
            for rule in valid:
                entry = f"rules[{rule.name}]"
                if rule.name in where:
                    faults.append(
                        ConfigFault(
                            str(file), entry, "name", f"also defined in {where[rule.name]}; rename one"
                        )
                    )
                    continue
                found = [ConfigFault(str(file), entry, key, msg) for key, msg in check_rule(rule)]
                faults.extend(found)
                where[rule.name] = str(file)
                rules.append(rule)
    if faults:
        raise ConfigError(faults)
    if not rules:
        raise ConfigError.single(", ".join(map(str, paths)), "no rules found", key="rules")
    return RuleSet(rules, where)
