"""Syslog messages: RFC 5424 and RFC 3164 headers, and RFC 6587 framing over TCP.

`parse` reads what real devices send, which is rarely textbook RFC 3164::

    <187>Jan 20 2026 03:12:45 ACC-SW-ICU-5F %%01IFPDT/4/IF_STATE(l)[12]:Interface GE0/0/24 has turned ...
    <188>Jan 20 03:12:45 2026 AGG-SW-OP %%10IFNET/3/PHY_UPDOWN: Physical state on the interface ...
    <187>57: *Mar  1 00:01:02.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down
    <3>Jan 20 03:12:45 db-his-node1 kernel: md/raid1:md0: Disk failure on sdb1, disabling device.
    <165>1 2026-01-20T03:12:45.000+08:00 nas-1 smartd 812 - - Device: /dev/sda, FAILED SMART self-check

When the header is not one we know, the whole text after the priority is the message, so a rule matching
the message still matches. Chinese devices often send GB18030 rather than UTF-8; both are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_PRI = re.compile(rb"<(\d{1,3})>")
_RFC5424 = re.compile(
    r"(?P<version>[1-9]\d{0,2}) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<rest>.*)",
    re.S,
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# BSD timestamps and what Huawei (year before the time) and H3C (year after it) make of them, or ISO 8601.
_TIMESTAMP = re.compile(
    rf"(?:{_MONTH} [ \d]\d (?:\d{{4}} )?\d\d:\d\d:\d\d(?:\.\d+)?(?: \d{{4}})?"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?) "
)
_HOST_TAG = re.compile(r"(?P<host>[\w.:-]+) (?:(?P<tag>[\w./-]{1,48})(?:\[(?P<pid>[^\]\s]{1,16})\])?: ?)?")
_SD_ELEMENT = re.compile(r'\[[^\s\]=]+(?: [^\s=\]]+="(?:[^"\\\]]|\\.)*")*\]')


@dataclass(frozen=True)
class SyslogMessage:
    """One syslog message, its header read as far as it follows a known form."""

    facility: int
    severity: int
    hostname: str
    app: str
    message: str

    @property
    def severity_name(self) -> str:
        """Return the syslog severity's keyword (``err``, ``warning``, ...)."""
        return SEVERITIES[self.severity]


def decode(data: bytes) -> str:
    """Return the text of a message: UTF-8 (a BOM dropped), else GB18030, else UTF-8 with replacements."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


def parse(data: bytes) -> SyslogMessage:
    """Parse one syslog message; a message without a valid priority gets user.notice (RFC 3164 4.3.3)."""
    pri = 13
    match = _PRI.match(data)
    if match and int(match.group(1)) <= 191:
        pri = int(match.group(1))
        data = data[match.end() :]
    text = decode(data.rstrip(b"\r\n\x00")).replace("\x00", "")
    facility, severity = divmod(pri, 8)
    full = _RFC5424.match(text)
    if full and (full["ts"] == "-" or _TIMESTAMP.match(full["ts"] + " ")):
        message = _strip_structured_data(full["rest"]).removeprefix("\ufeff")
        return SyslogMessage(facility, severity, _nil(full["host"]), _nil(full["app"]), message)
    stamp = _TIMESTAMP.match(text)
    if stamp is None:
        return SyslogMessage(facility, severity, "", "", text)
    head = _HOST_TAG.match(text, stamp.end())
    if head is None:
        return SyslogMessage(facility, severity, "", "", text[stamp.end() :])
    return SyslogMessage(facility, severity, head["host"], head["tag"] or "", text[head.end() :])


def _nil(value: str) -> str:
    return "" if value == "-" else value


def _strip_structured_data(rest: str) -> str:
    if rest.startswith("-"):
        return rest[2:] if rest.startswith("- ") else rest[1:]
    pos = 0
    while True:
        element = _SD_ELEMENT.match(rest, pos)
        if element is None:
            break
        pos = element.end()
    return rest[pos + 1 :] if rest[pos : pos + 1] == " " else rest[pos:]


class FrameError(ValueError):
    """A TCP stream broke RFC 6587 framing beyond recovery (the connection is closed)."""


class Framer:
    """Split a TCP syslog stream into messages: octet counting (``LEN SP MSG``) or newline-terminated.

    Each frame is judged by its first byte, as RFC 6587 3.4 suggests: a digit starts an octet count,
    anything else runs to LF (or NUL). A message longer than `max_bytes` is cut and counted in `oversized`.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.oversized = 0
        self._buffer = bytearray()
        self._skip = 0  # bytes of an oversized octet-counted frame still to throw away
        self._discarding = False  # inside an oversized newline frame

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes from the connection; return the complete messages they finish."""
        self._buffer += data
        out: list[bytes] = []
        while self._buffer:
            if self._skip:
                dropped = min(self._skip, len(self._buffer))
                del self._buffer[:dropped]
                self._skip -= dropped
                continue
            if self._discarding:
                end = self._newline()
                if end < 0:
                    self._buffer.clear()
                    break
                del self._buffer[: end + 1]
                self._discarding = False
                continue
            frame = self._octet_counted() if self._buffer[:1].isdigit() else self._newline_framed()
            if frame is None:
                break
            if frame:
                out.append(frame)
        return out

    def _newline(self) -> int:
        ends = [i for i in (self._buffer.find(b"\n"), self._buffer.find(b"\x00")) if i >= 0]
        return min(ends) if ends else -1

    def _octet_counted(self) -> bytes | None:
        space = self._buffer.find(b" ", 0, 12)
        if space < 0:
            if len(self._buffer) >= 12 or not self._buffer.isdigit():
                raise FrameError("octet count is not a number followed by a space")
            return None
        count = int(self._buffer[:space])
        if count > self.max_bytes:
            self.oversized += 1
            del self._buffer[: space + 1]
            self._skip = count
            return b""
        if len(self._buffer) < space + 1 + count:
            return None
        frame = bytes(self._buffer[space + 1 : space + 1 + count])
        del self._buffer[: space + 1 + count]
        return frame

    def _newline_framed(self) -> bytes | None:
        end = self._newline()
        if end < 0:
            if len(self._buffer) > self.max_bytes:
                self.oversized += 1
                frame = bytes(self._buffer[: self.max_bytes])
                self._buffer.clear()
                self._discarding = True
                return frame
            return None
        frame = bytes(self._buffer[:end]).rstrip(b"\r")
        del self._buffer[: end + 1]
        if len(frame) > self.max_bytes:
            self.oversized += 1
            frame = frame[: self.max_bytes]
        return frame
