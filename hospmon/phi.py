"""The PHI guard: one check, shared by every exporter and the router, that no patient identity leaves us.

Build one guard from config and ask it about every value that would leave a hospital system::

    guard = PhiGuard(PhiSettings(record_prefixes=["MRN", "ZY", "MZ"]), extra_words=["门诊楼"])
    guard.check("clinic", "138-0013-8000")      # Verdict(rule="mobile_phone"): refused, logged, counted
    guard.redact("sysContact", "张三 x8001")     # "[redacted]"
    guard.redact_text("paged 张三CANARY")         # ("paged [redacted]CANARY", ["han_name"])

Rules, by name (logs and metrics carry the rule and the label name, never the value):

- ``resident_id``: 18-digit (last may be X) or 15-digit resident ID numbers, also with spaces or dashes, when
  the checksum holds or the birth date inside is a real date.
- ``mobile_phone``, ``landline_phone``: mainland numbers, formatted or not, with or without +86.
- ``record_number``: a configured prefix (MRN, ZY, MZ, ...) followed by a number: medical record, visit,
  accession and sample numbers.
- ``email``: any address but the site's own mailboxes (``allow_email_domains``, ``allow_emails``): a role
  or staff address at the hospital's domain (``noc@hospital.example`` in a switch's sysContact) is not patient
  data, and the rest of its text still passes the other rules (``zhang.san@...`` is a ``latin_name``).
- ``han_name``: a 2-4 character Han string standing alone that is not made of allowed words.
- ``latin_name``: a romanised "Surname Given" pair (``Zhang San``, ``LIU^RUYAN``).

Free text a person types (a note, a fix, a reason: ``guard.check_text``) is prose, where short Han runs and
lower-case word pairs are ordinary words ("已重启", "he ran"): there a ``han_name`` is only a common surname
and one or two characters after a patient word ("患者张三", "3床 李四"), a ``latin_name`` only a capitalised
or caret pair ("Zhang San", "liu^ruyan") that is not one of the site's staff (``staff``: "Wang Lei" may be
called), and a year-first "2026-1187" is a ticket, not a local landline. The other rules are the same.

`hospmon.phi_patterns` tells config loaders which label patterns and names to refuse at start-up.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated

from prometheus_client.core import CounterMetricFamily

from hospmon.config import Check, Strict
from hospmon.phi_words import (
    ALERT_WORDS,
    HAN_SURNAMES,
    HOSPITAL_WORDS,
    NUMERALS,
    PATIENT_CUES,
    PINYIN_SURNAMES,
    PINYIN_SYLLABLES,
    UNITS,
)

if TYPE_CHECKING:
    from hospmon.inventory.model import Inventory

log = logging.getLogger("hospmon.phi")

REDACTED = "[redacted]"
RULES = (
    "resident_id",
    "mobile_phone",
    "landline_phone",
    "record_number",
    "email",
    "han_name",
    "latin_name",
)
DEFAULT_RECORD_PREFIXES = [
    "MRN",
    "PID",
    "ZY",
    "MZ",
    "JZ",
    "ACC",
    "住院号",
    "门诊号",
    "病案号",
    "标本号",
    "检查号",
]

_TEST_ONLY_DISABLED = False
"""Set only by tests (monkeypatch) to prove a canary test can fail; no config or flag reaches it."""

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_DIGIT_RUN = re.compile(r"\d+[Xx]?(?:[ \-()]{1,3}\d+[Xx]?)*")
_DIGIT_GROUP = re.compile(r"\d+[Xx]?")
# A local number without area code starts with 2-8; "1986-2015" and "2010-2024" are years, not numbers.
_LOCAL_LANDLINE = re.compile(r"(?<![\d-])([2-8]\d{2,3})-(\d{4})(?![\d-])")
_YEAR = re.compile(r"(19|20)\d\d")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_DOMAIN = re.compile(r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_LATIN_PAIR = re.compile(r"(?<![A-Za-z])([A-Za-z]{1,9})[ _.,^-]{1,2}([A-Za-z]{1,14})(?![A-Za-z])")
# In prose only the HL7 caret makes a lower-case pair a name: "liu^ruyan" is one, "he ran" is English.
_LATIN_CARET = re.compile(r"(?<![A-Za-z])([A-Za-z]{1,9})\^([A-Za-z]{1,14})(?![A-Za-z])")
# The same pair starting at every word, for capitalised pairs only: in "about LIU^RUYAN" the pair "about LIU"
# must not hide the name, while "an outage" in a rule's prose is no name.
_LATIN_PAIR_ANYWHERE = re.compile(
    r"(?<![A-Za-z])(?=([A-Z][A-Za-z]{0,8})[ _.,^-]{1,2}([A-Z][A-Za-z]{0,13})(?![A-Za-z]))"
)
# In prose, a name is a surname and one or two characters after a patient word, ending where the Han run ends.
_PROSE_NAME = re.compile(
    f"(?:{'|'.join(PATIENT_CUES)})[ :\uff1a]{{0,2}}"
    f"([{''.join(sorted(HAN_SURNAMES))}][{_HAN}]{{1,2}})(?![{_HAN}])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MAX_GROUPS = 8
_MIN_DIGITS = 10
"""The fewest digits of any number the rules refuse: a landline with its area code, 010 1234567."""
_CACHE_SIZE = 8192
"""Values remembered with their findings: a switch's interface names come back at every scrape."""


def _prefixes(value: list[str]) -> list[str]:
    bad = [p for p in value if not 0 < len(p) <= 8 or not all(c.isalpha() for c in p)]
    if bad:
        raise ValueError(f"prefixes are 1-8 letters: {', '.join(bad)}")
    return value


def _domains(value: list[str]) -> list[str]:
    value = [d.strip().lower().lstrip("@") for d in value]
    bad = [d for d in value if not _DOMAIN.fullmatch(d)]
    if bad:
        raise ValueError(f"not mail domains (hospital.example): {', '.join(bad)}")
    return value


def _mailboxes(value: list[str]) -> list[str]:
    value = [e.strip().lower() for e in value]
    bad = [e for e in value if not _EMAIL.fullmatch(e) or not _DOMAIN.fullmatch(e.rsplit("@", 1)[1])]
    if bad:
        raise ValueError(f"not mail addresses (noc@hospital.example): {', '.join(bad)}")
    return value


def _han_words(value: list[str]) -> list[str]:
    bad = [w for w in value if not _HAN_RUN.fullmatch(w)]
    if bad:
        raise ValueError(f"allow_words are Han words only: {', '.join(bad)}")
    return value


@dataclass(frozen=True, kw_only=True)
class PhiSettings(Strict):
    """What a site adds to the guard: its record-number prefixes and Han words that are not names."""

    record_prefixes: Annotated[list[str], Check(_prefixes)] = field(
        default_factory=lambda: list(DEFAULT_RECORD_PREFIXES)
    )
    """Prefixes of medical record, visit, accession and sample numbers (``MRN00012345``, ``ZY2024001``)."""
    allow_words: Annotated[list[str], Check(_han_words)] = field(default_factory=list)
    """Han words (department, building, room names) that may stand alone in a label value."""
    allow_email_domains: Annotated[list[str], Check(_domains)] = field(default_factory=list)
    """The site's own mail domains (``hospital.example``, subdomains included): its mailboxes pass."""
    allow_emails: Annotated[list[str], Check(_mailboxes)] = field(default_factory=list)
    """Single mailboxes elsewhere that may pass (a vendor's support address in a device's sysContact)."""


@dataclass(frozen=True)
class Verdict:
    """The guard's answer about one value: allowed, or refused by the named rule."""

    rule: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the value may leave."""
        return self.rule is None


@dataclass(frozen=True)
class Finding:
    """A span of text that a rule refuses."""

    rule: str
    start: int
    end: int


class RefusalTally:
    """Counts of refused values by rule, for a ``*_refused_total{rule}`` counter; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, rule: str) -> None:
        """Count one refusal."""
        with self._lock:
            self._counts[rule] += 1

    def get(self, rule: str) -> int:
        """Return the refusals counted for `rule`."""
        with self._lock:
            return self._counts[rule]

    def family(self, name: str, documentation: str) -> CounterMetricFamily:
        """Return the counts as a counter family with a ``rule`` label, every rule present from zero."""
        family = CounterMetricFamily(name, documentation, labels=["rule"])
        with self._lock:
            for rule in RULES:
                family.add_metric([rule], self._counts[rule])
        return family


def _checksum_ok(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == digits[17].upper()


def _real_date(text: str) -> bool:
    try:
        day = dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return False
    return 1900 <= day.year <= 2099


def _number_rule(digits: str) -> str | None:
    """Return the rule a run of digits (separators removed) falls under, or None."""
    n = len(digits)
    if n == 18 and digits[:17].isdigit() and (_checksum_ok(digits) or _real_date(digits[6:14])):
        return "resident_id"
    if n == 15 and digits.isdigit() and _real_date("19" + digits[6:12]):
        return "resident_id"
    if not digits.isdigit():
        return None
    national = digits
    if digits.startswith("0086"):
        national = digits[4:]
    elif digits.startswith("86") and n >= 12:
        national = digits[2:]
    if len(national) == 11 and national[0] == "1" and national[1] in "3456789":
        return "mobile_phone"
    if national is not digits and national[:1] != "0" and 9 <= len(national) <= 11:
        return "landline_phone"  # +86 10 6512 3456: the trunk 0 is dropped after the country code
    if national.startswith("0") and national[1:2] not in ("", "0") and 10 <= len(national) <= 12:
        return "landline_phone"
    return None


def _number_findings(text: str, prose: bool = False) -> Iterable[Finding]:
    for run in _DIGIT_RUN.finditer(text):
        if len(run.group()) < _MIN_DIGITS:
            continue  # too short to hold any number `_number_rule` takes (a CI's "3-4-5")
        groups = list(_DIGIT_GROUP.finditer(run.group()))[: _MAX_GROUPS * 2]
        for i in range(len(groups)):
            for j in range(i, min(len(groups), i + _MAX_GROUPS)):
                digits = "".join(g.group() for g in groups[i : j + 1])
                if "X" in digits[:-1].upper():
                    break
                rule = _number_rule(digits)
                if rule is not None:
                    base = run.start()
                    yield Finding(rule, base + groups[i].start(), base + groups[j].end())
    for match in _LOCAL_LANDLINE.finditer(text):
        if _YEAR.fullmatch(match.group(1)) and (prose or _YEAR.fullmatch(match.group(2))):
            continue  # 1986-2015 is years; in prose 2026-1187 is a ticket, not a number without area code
        yield Finding("landline_phone", match.start(), match.end())


@lru_cache(maxsize=4096)
def _pinyin_word(word: str, max_syllables: int = 3) -> bool:
    """Tell whether `word` (lower case) is 1 to `max_syllables` pinyin syllables."""
    if not word:
        return max_syllables < 3
    if max_syllables == 0:
        return False
    return any(
        word[:k] in PINYIN_SYLLABLES and _pinyin_word(word[k:], max_syllables - 1)
        for k in range(min(6, len(word)), 0, -1)
    )


class PhiGuard:
    """Refuses patient identifiers in values that leave a hospital system, and counts what it refused."""

    def __init__(
        self,
        settings: PhiSettings | None = None,
        *,
        extra_words: Iterable[str] = (),
        staff: Iterable[str] = (),
        tally: RefusalTally | None = None,
    ) -> None:
        settings = settings or PhiSettings()
        # Romanised names of the site's staff ("Wang Lei"): a note may say who was called, a label may not.
        self._staff = frozenset(" ".join(re.split(r"[ _.,^-]+", n.strip().lower())) for n in staff)
        self.tally = tally or RefusalTally()
        words = {w for w in (*HOSPITAL_WORDS, *ALERT_WORDS, *settings.allow_words, *extra_words) if w}
        # Inventory names like "核心交换机1" hold Han runs; those runs are allowed words too.
        self._words = frozenset(run for w in words for run in _HAN_RUN.findall(w))
        self._longest = max((len(w) for w in self._words), default=1)
        ascii_prefixes = [re.escape(p) for p in settings.record_prefixes if p.isascii()]
        han_prefixes = [re.escape(p) for p in settings.record_prefixes if not p.isascii()]
        parts = []
        if ascii_prefixes:
            parts.append(f"(?<![A-Za-z])(?:{'|'.join(ascii_prefixes)})")
        if han_prefixes:
            parts.append(f"(?:{'|'.join(han_prefixes)})")
        self._record = (
            re.compile(
                f"(?:{'|'.join(parts)})[ \\-_:#.\uff1a]{{0,3}}"
                "(?:[A-Za-z]{1,12}[ \\-_:#.]{1,3})?\\d{4,}",
                re.IGNORECASE,
            )
            if parts
            else None
        )
        # Normalised again here: settings built in code (not read from a file) skip the config's checks.
        self._mail_domains = tuple(d.strip().lower().lstrip("@") for d in settings.allow_email_domains)
        self._mailboxes = frozenset(e.strip().lower() for e in settings.allow_emails)
        self._logged: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[Finding, ...]] = {}

    def _covered(self, run: str) -> bool:
        """Tell whether a Han run splits wholly into allowed words, numerals and units."""
        ok = [True] + [False] * len(run)
        for end in range(1, len(run) + 1):
            for start in range(max(0, end - self._longest), end):
                piece = run[start:end]
                if ok[start] and (
                    piece in self._words or all(c in NUMERALS for c in piece) or piece in UNITS
                ):
                    ok[end] = True
                    break
        return ok[-1]

    def find(self, text: str, *, prose: bool = False) -> list[Finding]:
        """Return every span of `text` (a value, or with `prose` free text) that a rule refuses, in order."""
        if _TEST_ONLY_DISABLED or not text:
            return []
        if prose:
            return self._scan(text, prose)  # typed once, up to an article long: not worth keeping in memory
        known = self._seen.get(text)
        if known is None:
            known = tuple(self._scan(text, prose))
            with self._lock:
                if len(self._seen) >= _CACHE_SIZE:
                    self._seen.clear()
                self._seen[text] = known
        return list(known)

    def _scan(self, text: str, prose: bool) -> list[Finding]:
        found = list(_number_findings(text, prose))
        if self._record is not None:
            found += [Finding("record_number", m.start(), m.end()) for m in self._record.finditer(text)]
        if "@" in text:
            found += [
                Finding("email", m.start(), m.end())
                for m in _EMAIL.finditer(text)
                if not self._own_mailbox(m.group())
            ]
        if prose:
            found += [
                Finding("han_name", m.start(1), m.end(1))
                for m in _PROSE_NAME.finditer(text)
                if not self._covered(m.group(1))
            ]
        else:
            for m in _HAN_RUN.finditer(text):
                if 2 <= len(m.group()) <= 4 and not self._covered(m.group()):
                    found.append(Finding("han_name", m.start(), m.end()))
        pairs = (_LATIN_CARET if prose else _LATIN_PAIR).finditer(text)
        for m in (*pairs, *_LATIN_PAIR_ANYWHERE.finditer(text)):
            surname, given = m.group(1).lower(), m.group(2).lower()
            if prose and f"{surname} {given}" in self._staff:
                continue
            if surname in PINYIN_SURNAMES and _pinyin_word(given):
                found.append(Finding("latin_name", m.start(1), m.end(2)))
        return sorted(found, key=lambda f: (f.start, -f.end))

    def _own_mailbox(self, address: str) -> bool:
        """Tell whether an address found in text is one of the site's own mailboxes."""
        local, domain = address.lower().rsplit("@", 1)
        local = local.rsplit(":", 1)[-1].lstrip("<([\"'")  # "mailto:noc@...", "<noc@...>"
        if f"{local}@{domain}" in self._mailboxes:
            return True
        return any(domain == d or domain.endswith("." + d) for d in self._mail_domains)

    def _refused(self, rule: str, label: str) -> None:
        self.tally.add(rule)
        key = (label, rule)
        with self._lock:
            if key in self._logged:
                return  # counted; a device's same value comes back at every scrape and would drown the log
            self._logged.add(key)
        hint = " (the site's own mailboxes: phi.allow_email_domains)" if rule == "email" else ""
        log.warning("value refused: label=%s rule=%s%s", label, rule, hint)

    def check(self, label_name: str, value: str) -> Verdict:
        """Return whether `value` may be the value of `label_name`; a refusal is counted and logged."""
        found = self.find(value)
        if not found:
            return Verdict()
        self._refused(found[0].rule, label_name)
        return Verdict(found[0].rule)

    def check_text(self, field: str, text: str) -> Verdict:
        """Return whether free text typed in `field` may be stored or sent; count and log a refusal."""
        found = self.find(text, prose=True)
        if not found:
            return Verdict()
        self._refused(found[0].rule, field)
        return Verdict(found[0].rule)

    def redact(self, label_name: str, value: str) -> str:
        """Return `value`, or `REDACTED` when the guard refuses it."""
        return value if self.check(label_name, value).ok else REDACTED

    def redact_text(self, text: str, *, where: str = "text") -> tuple[str, list[str]]:
        """Replace each refused span of free text by `REDACTED`; return the text and the rules applied."""
        out: list[str] = []
        rules: list[str] = []
        pos = 0
        for finding in self.find(text):
            if finding.start < pos:
                continue  # overlaps a span already replaced
            out.append(text[pos : finding.start] + REDACTED)
            rules.append(finding.rule)
            self._refused(finding.rule, where)
            pos = finding.end
        out.append(text[pos:])
        return "".join(out), rules

    def redact_labels(self, labels: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Return `labels` with refused values replaced, and the (label name, rule) of each replacement."""
        clean: dict[str, str] = {}
        hits: list[tuple[str, str]] = []
        for name, value in labels.items():
            verdict = self.check(name, value)
            clean[name] = value if verdict.ok else REDACTED
            if verdict.rule is not None:
                hits.append((name, verdict.rule))
        return clean, hits


def inventory_words(inventory: Inventory) -> list[str]:
    """Return the Chinese names of the site's hospital, departments, services, teams and CIs: never names."""
    names = [
        inventory.hospital.name,
        *(d.name for d in inventory.departments.values()),
        *(s.name for s in inventory.services.values()),
        *(t.name for t in inventory.teams.values()),
        *(c.name for c in inventory.cis.values()),
    ]
    return [n.zh for n in names if n is not None and n.zh]


def inventory_staff(inventory: Inventory) -> list[str]:
    """Return the romanised names of the teams' members: staff a note may name, never patients."""
    return [m.name.en for t in inventory.teams.values() for m in t.members if m.name.en]
