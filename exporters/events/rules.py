"""Mapping rules: a trap OID or a syslog pattern becomes an alert, and another event (or time) ends it.

Rules live in YAML files under ``rules/events/`` (one list ``rules:`` per file)::

    rules:
      - name: if_link_down
        trap: 1.3.6.1.6.3.1.1.5.3                     # IF-MIB linkDown
        fields:                                       # varbinds by OID prefix: the value, or the index
          ifIndex: {oid: [1.3.6.1.2.1.2.2.1.1, 1.3.6.1.2.1.2.2.1.8], part: index}
          ifDescr: {oid: 1.3.6.1.2.1.2.2.1.2}
        alert: NetworkLinkDown
        severity: critical
        key: [ifIndex]                                # one alert per port, not per trap
        labels: {ifIndex: "{ifIndex}"}
        summary: "Link {ifDescr} of {ci} went down"
        resolve: {trap: 1.3.6.1.6.3.1.1.5.4}          # linkUp with the same ifIndex ends it

Every file is checked at start-up and every fault names the file, the rule and the key.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator

from exporters.network.ber import Oid, parse_oid
from hospmon.config import ConfigError, ConfigFault, StrictModel, load_yaml, validate

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ALERT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TEMPLATE_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Labels the receiver sets itself from the inventory and the event; a rule may not override them.
RESERVED_LABELS = frozenset({"alertname", "severity", "ci", "service", "department", "tier", "source"})
BUILTIN = {
    "trap": frozenset({"ci", "sender", "trap"}),
    "syslog": frozenset({"ci", "sender", "host", "app"}),
}
MAX_LABEL_CHARS = 200
MAX_TEXT_CHARS = 500


def _oid(text: str) -> str:
    parse_oid(str(text))
    return str(text).strip().lstrip(".")


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return text


OidText = Annotated[str, AfterValidator(_oid)]
Regex = Annotated[str, AfterValidator(_regex)]
Values = str | list[str]


class FieldSpec(StrictModel):
    """A value taken from a trap's varbinds: the first whose OID starts with one of `oid`."""

    oid: OidText | list[OidText]
    part: Literal["value", "index"] = "value"
    map: dict[str, str] = Field(default_factory=dict, description="raw value -> text, e.g. 2: down")

    def prefixes(self) -> list[Oid]:
        """Return the OID prefixes tried, in order."""
        return [parse_oid(o) for o in ([self.oid] if isinstance(self.oid, str) else self.oid)]


class Resolve(StrictModel):
    """The event that ends a rule's alert: a trap or a syslog pattern yielding the same key."""

    trap: OidText | list[OidText] | None = None
    syslog: Regex | None = None
    when: dict[str, Values] = Field(default_factory=dict)


class RateLimit(StrictModel):
    """At most `events` new alerts per `seconds` from one source for one rule; more are dropped."""

    events: int = Field(ge=1)
    seconds: float = Field(gt=0)


class Rule(StrictModel):
    """One mapping from an event to an alert."""

    name: str
    trap: OidText | list[OidText] | None = None
    syslog: Regex | None = None
    app: Regex | None = Field(default=None, description="syslog only: the APP-NAME or tag must match")
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    when: dict[str, Values] = Field(default_factory=dict)
    alert: str
    severity: Literal["critical", "warning", "info"]
    key: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str
    description: str = ""
    resolve: Resolve | None = None
    expire_seconds: float | None = Field(default=None, gt=0)
    flap_hold_seconds: float | None = Field(default=None, ge=0)
    rate_limit: RateLimit | None = None

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if (self.trap is None) == (self.syslog is None):
            raise ValueError("give exactly one of trap and syslog")
        return self

    @property
    def kind(self) -> Literal["trap", "syslog"]:
        """Return the kind of event the rule reads."""
        return "trap" if self.trap is not None else "syslog"


class RuleFile(StrictModel):
    """One file of rules."""

    rules: list[Rule]


@dataclass(frozen=True)
class Hit:
    """A rule an event matched: whether it fires or resolves the alert, and the fields it yielded."""

    rule: Rule
    resolve: bool
    fields: Mapping[str, str]


@dataclass
class RuleSet:
    """Every rule, indexed for matching: traps by notification OID, syslog patterns in file order."""

    rules: list[Rule]
    files: dict[str, str] = field(default_factory=dict)  # rule name -> file
    _traps: dict[str, list[tuple[Rule, bool]]] = field(default_factory=dict)
    _syslog: list[tuple[Rule, bool, re.Pattern[str], re.Pattern[str] | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for rule in self.rules:
            for resolve, spec in ((False, rule), (True, rule.resolve)):
                if spec is None:
                    continue
                if spec.trap is not None:
                    for oid in [spec.trap] if isinstance(spec.trap, str) else spec.trap:
                        self._traps.setdefault(oid, []).append((rule, resolve))
                elif spec.syslog is not None:
                    app = re.compile(rule.app) if rule.app else None
                    self._syslog.append((rule, resolve, re.compile(spec.syslog), app))

    def match_trap(self, trap_oid: str, varbinds: Sequence[tuple[Oid, str]]) -> list[Hit]:
        """Return the rules a notification matches, with the fields each takes from its varbinds."""
        hits = []
        for rule, resolve in self._traps.get(trap_oid, ()):
            fields = {name: _field(spec, varbinds) for name, spec in rule.fields.items()}
            fields["trap"] = trap_oid
            if _holds(rule.resolve.when if resolve and rule.resolve else rule.when, fields):
                hits.append(Hit(rule, resolve, fields))
        return hits

    def match_syslog(self, app: str, host: str, message: str) -> list[Hit]:
        """Return the rules a syslog message matches, with the named groups of each pattern as fields."""
        hits = []
        for rule, resolve, pattern, app_pattern in self._syslog:
            if app_pattern is not None and not app_pattern.fullmatch(app):
                continue
            found = pattern.search(message)
            if found is None:
                continue
            fields = {k: v or "" for k, v in found.groupdict().items()}
            fields.update(app=app, host=host)
            if _holds(rule.resolve.when if resolve and rule.resolve else rule.when, fields):
                hits.append(Hit(rule, resolve, fields))
        return hits


def _field(spec: FieldSpec, varbinds: Sequence[tuple[Oid, str]]) -> str:
    for prefix in spec.prefixes():
        size = len(prefix)
        for oid, value in varbinds:
            if oid[:size] == prefix:
                raw = ".".join(map(str, oid[size:])) if spec.part == "index" else value
                return spec.map.get(raw, raw)
    return ""


def _holds(when: Mapping[str, Values], fields: Mapping[str, str]) -> bool:
    for name, wanted in when.items():
        allowed = [wanted] if isinstance(wanted, str) else wanted
        if fields.get(name, "") not in allowed:
            return False
    return True


def render(template: str, fields: Mapping[str, str], limit: int = MAX_TEXT_CHARS) -> str:
    """Fill ``{name}`` placeholders from `fields` (unknown ones empty), without control characters."""
    text = TEMPLATE_RE.sub(lambda m: fields.get(m.group(1), ""), template)
    text = "".join(c if c.isprintable() else " " for c in text).strip()
    return text[:limit]


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
        elif name in RESERVED_LABELS:
            yield (
                f"labels.{name}",
                f"set by the receiver; rules may not set {', '.join(sorted(RESERVED_LABELS))}",
            )
    templates = {f"labels.{k}": v for k, v in rule.labels.items()}
    templates.update(summary=rule.summary, description=rule.description)
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
