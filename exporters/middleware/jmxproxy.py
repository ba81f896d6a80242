"""Read MBeans through Tomcat's manager JMX proxy (``/manager/jmxproxy/?qry=...``, role ``manager-jmx``).

The proxy answers a query in text::

    OK - Number of results: 1

    Name: Catalina:type=ThreadPool,name="http-nio-8080"
    currentThreadsBusy: 3
    HeapMemoryUsage: {committed=97320960, init=100663296, max=97320960, used=12513960}
    MemoryPoolNames: Array[java.lang.String] of length 2
    \tEden Space

Some beans carry secrets in clear (a DataSource's ``password``): only the attributes a caller names are ever
kept, and a body is never logged or put into a failure detail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from exporters.core.http import HttpResult, auth_headers, fetch
from exporters.core.probe import Deadline, ProbeFailed
from exporters.middleware.request import ModuleProbe

_COMPOSITE_ITEM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=([^,{}]*)")


@dataclass(frozen=True)
class MBean:
    """One MBean of an answer: its object name's keys and the attributes a caller asked for."""

    name: str
    keys: Mapping[str, str]
    attributes: Mapping[str, str]

    def number(self, attribute: str) -> float | None:
        """Return an attribute as a number, or None when it is absent or not numeric."""
        return to_number(self.attributes.get(attribute))

    def composite(self, attribute: str) -> dict[str, float]:
        """Return the numeric items of a composite value such as ``{committed=1, used=2}``."""
        text = self.attributes.get(attribute, "")
        if not (text.startswith("{") and text.endswith("}")):
            return {}
        found = {k: to_number(v) for k, v in _COMPOSITE_ITEM.findall(text)}
        return {k: v for k, v in found.items() if v is not None}


def to_number(text: str | None) -> float | None:
    """Return a JMX attribute's text as a float (``true``/``false`` as 1/0), or None."""
    if text is None:
        return None
    text = text.strip()
    if text in ("true", "false"):
        return 1.0 if text == "true" else 0.0
    try:
        return float(text)
    except ValueError:
        return None


def object_name_keys(name: str) -> dict[str, str]:
    """Return the key properties of a JMX object name, unquoted: ``d:type=X,name="a,b"`` -> type, name."""
    _, _, rest = name.partition(":")
    keys: dict[str, str] = {}
    i = 0
    while i < len(rest):
        eq = rest.find("=", i)
        if eq < 0:
            break
        key = rest[i:eq]
        j = eq + 1
        if j < len(rest) and rest[j] == '"':
            value, j = _quoted(rest, j + 1)
        else:
            end = rest.find(",", j)
            end = len(rest) if end < 0 else end
            value, j = rest[j:end], end
        keys[key] = value
        i = j + 1
    return keys


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted object-name value from `start` (after the quote); return it and the index past it."""
    out: list[str] = []
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    return "".join(out), i


def parse(text: str, wanted: frozenset[str]) -> list[MBean]:
    """Parse a JMX proxy answer, keeping only the `wanted` attributes of each bean."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("OK"):
        raise ProbeFailed("bad_response", "the JMX proxy did not answer OK")
    beans: list[MBean] = []
    for name, attributes in _blocks(lines[1:]):
        kept = {k: v for k, v in attributes if k in wanted}
        beans.append(MBean(name, object_name_keys(name), kept))
    return beans


def _blocks(lines: list[str]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Yield each bean's object name and attribute lines; beans are separated by blank lines (a bean may
    have an attribute called Name too)."""
    name: str | None = None
    attributes: list[tuple[str, str]] = []
    for line in [*lines, ""]:
        if not line.strip():
            if name is not None:
                yield name, attributes
            name, attributes = None, []
        elif name is None:
            if line.startswith("Name: "):
                name = line[len("Name: ") :].strip()
        elif not line[0].isspace():
            key, sep, value = line.partition(": ")
            if sep:
                attributes.append((key, value))


class JmxProxy:
    """Queries one Tomcat's JMX proxy with a module's request settings and auth, within a deadline."""

    def __init__(self, probe: ModuleProbe) -> None:
        self.base = probe.base + "/"
        self.spec = probe.spec.http
        self.probe = probe
        self._auth: dict[str, str] | None = None
        self.first: HttpResult | None = None

    def query(self, pattern: str, attributes: frozenset[str], deadline: Deadline) -> list[MBean]:
        """Return the beans matching an object-name pattern, with the named attributes."""
        result = HttpResult()
        if self._auth is None:
            self._auth = auth_headers(self.spec, self.probe.auths, self.probe.file, deadline, result)
            self.first = result
        fetch(
            f"{self.base}?qry={quote(pattern, safe='')}", self.spec, deadline, auth=self._auth, result=result
        )
        try:
            text = result.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProbeFailed("bad_response", "the JMX proxy's answer is not UTF-8") from exc
        return parse(text, attributes)
