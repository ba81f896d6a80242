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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from exporters.network.ber import Oid, parse_oid
from hospmon.config import StrictModel

TEMPLATE_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
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
    summary_zh: str = Field(
        default="", description="the summary in Chinese; none: Chinese pages say `summary`"
    )
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
