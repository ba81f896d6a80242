"""BER encoding of SNMP v1/v2c requests and a fast decoder of their responses (RFC 1157, RFC 3416).

The decoder is the hot path of a scrape: a 200-interface switch answers with ~8,000 variable bindings.
It walks the message once with plain integer indexing and turns every value into ``(tag, python value)``
so that the pysnmp path (used for SNMPv3) can produce exactly the same tuples and be compared with it.
"""

from __future__ import annotations

from dataclasses import dataclass

Oid = tuple[int, ...]
Value = int | bytes | Oid | None
VarBind = tuple[Oid, int, Value]

# Tags of the values an agent may return.
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82
EXCEPTIONS = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})
UNSIGNED = frozenset({COUNTER32, GAUGE32, TIMETICKS, COUNTER64})

GET = 0xA0
GETNEXT = 0xA1
RESPONSE = 0xA2
GETBULK = 0xA5
REPORT = 0xA8

V1 = 0
V2C = 1


class DecodeError(ValueError):
    """The bytes are not a well-formed SNMP v1/v2c response."""


@dataclass(frozen=True)
class Response:
    """A decoded Response-PDU."""

    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


def parse_oid(text: str) -> Oid:
    """Parse a dotted numeric OID such as ``1.3.6.1.2.1.1.3.0`` (a leading dot is allowed)."""
    parts = text.strip().lstrip(".").split(".")
    oid = tuple(int(p) for p in parts)
    if len(oid) < 2 or oid[0] > 2 or any(p < 0 for p in oid):
        raise ValueError(f"not a numeric OID: {text!r}")
    return oid


def format_oid(oid: Oid) -> str:
    """Return the dotted form of an OID."""
    return ".".join(map(str, oid))


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes) -> bytes:
    """Encode one tag-length-value."""
    return bytes((tag,)) + _length(len(content)) + content


def integer(value: int) -> bytes:
    """Encode an INTEGER."""
    return tlv(INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    """Return the BER content octets of an OID (without tag and length)."""
    out = bytearray((oid[0] * 40 + oid[1],))
    for sub in oid[2:]:
        if sub < 0x80:
            out.append(sub)
            continue
        chunk = bytearray((sub & 0x7F,))
        rest = sub >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out += chunk[::-1]
    return bytes(out)


def encode_request(
    version: int, community: bytes, pdu_type: int, request_id: int, oids: list[Oid], a: int = 0, b: int = 0
) -> bytes:
    """Encode a v1/v2c request message; `a` and `b` are non-repeaters and max-repetitions for GETBULK."""
    pdu = encode_pdu(pdu_type, request_id, oids, a, b)
    return tlv(0x30, integer(version) + tlv(OCTET_STRING, community) + pdu)


def decode_oid(data: bytes, start: int, end: int) -> Oid:
    """Decode OID content octets ``data[start:end]``."""
    raw = data[start:end]
    if not raw:
        raise DecodeError("empty OID")
    first = raw[0]
    if first < 0x80 and max(raw) < 0x80:  # the usual case: every sub-identifier below 128
        head = (first // 40, first % 40) if first < 80 else (2, first - 80)
        return head + tuple(raw[1:])
    subs: list[int] = []
    acc = 0
    for byte in raw:
        acc = (acc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            subs.append(acc)
            acc = 0
    if raw[-1] & 0x80:
        raise DecodeError("truncated OID")
    head0 = subs[0]
    head = (head0 // 40, head0 % 40) if head0 < 80 else (2, head0 - 80)
    return head + tuple(subs[1:])


def header(data: bytes, pos: int) -> tuple[int, int, int]:
    """Return (tag, content start, content end) of the TLV at `pos`."""
    try:
        tag = data[pos]
        n = data[pos + 1]
        pos += 2
        if n & 0x80:
            count = n & 0x7F
            if count == 0 or count > 4:
                raise DecodeError("unsupported length form")
            n = int.from_bytes(data[pos : pos + count], "big")
            pos += count
    except IndexError as exc:
        raise DecodeError("truncated message") from exc
    end = pos + n
    if end > len(data):
        raise DecodeError("truncated message")
    return tag, pos, end


def expect(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    """Return the content bounds of the TLV at `pos`, which must carry `tag`."""
    got, start, end = header(data, pos)
    if got != tag:
        raise DecodeError(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
    return start, end


def read_int(data: bytes, pos: int) -> tuple[int, int]:
    """Return the INTEGER at `pos` and the position after it."""
    start, end = expect(data, pos, INTEGER)
    return int.from_bytes(data[start:end], "big", signed=True), end


def decode_message(data: bytes) -> tuple[int, bytes, int, Response]:
    """Decode a v1/v2c message: return version, community, PDU type and the PDU."""
    start, end = expect(data, 0, 0x30)
    version, pos = read_int(data, start)
    cstart, pos = expect(data, pos, OCTET_STRING)
    community = data[cstart:pos]
    pdu_type, pdu = decode_pdu(data, pos, end)
    return version, community, pdu_type, pdu


def decode_pdu(data: bytes, pos: int, end: int) -> tuple[int, Response]:
    """Decode the PDU at `pos`, which must end exactly at `end`: return its type and content."""
    pdu_type, pos, pdu_end = header(data, pos)
    if pdu_end != end:
        raise DecodeError("trailing bytes after PDU")
    request_id, pos = read_int(data, pos)
    error_status, pos = read_int(data, pos)
    error_index, pos = read_int(data, pos)
    pos, vb_end = expect(data, pos, 0x30)
    return pdu_type, Response(request_id, error_status, error_index, _varbinds(data, pos, vb_end))


def encode_pdu(pdu_type: int, request_id: int, oids: list[Oid], a: int = 0, b: int = 0) -> bytes:
    """Encode a request PDU; `a` and `b` are non-repeaters and max-repetitions for GETBULK."""
    varbinds = b"".join(tlv(0x30, tlv(OBJECT_IDENTIFIER, encode_oid(o)) + b"\x05\x00") for o in oids)
    return tlv(pdu_type, integer(request_id) + integer(a) + integer(b) + tlv(0x30, varbinds))


# Agents answer the same OIDs scrape after scrape (and switches of one model the same ones), so decoded
# names are kept: a lookup costs a third of decoding (0.6 against 1.8 us a binding). Each entry holds
# ~200 bytes; when the cache is full it is emptied and fills again with what agents answer now, so it
# never holds more than its bound, which the network exporter sizes from its modules (`size_oid_cache`).
class _OidCache(dict[bytes, Oid]):
    limit = 65_536


_OID_CACHE = _OidCache()


def size_oid_cache(entries: int) -> None:
    """Bound the decoded-OID cache to `entries` names, emptying it if it holds more."""
    _OID_CACHE.limit = max(1, entries)
    if len(_OID_CACHE) > _OID_CACHE.limit:
        _OID_CACHE.clear()


def _varbinds(data: bytes, pos: int, end: int) -> list[VarBind]:
    try:
        return _decode_varbinds(data, pos, end)
    except IndexError as exc:
        raise DecodeError("truncated variable binding") from exc


def _decode_varbinds(data: bytes, pos: int, end: int) -> list[VarBind]:
    out: list[VarBind] = []
    append = out.append
    from_bytes = int.from_bytes
    cache = _OID_CACHE
    known, limit = cache.get, cache.limit
    if end > len(data):
        raise DecodeError("truncated message")
    while pos < end:
        # Short definite lengths (< 128) are the rule inside a binding; `_header` handles the rest.
        if data[pos] != 0x30:
            raise DecodeError("variable binding is not a SEQUENCE")
        if data[pos + 1] < 0x80:
            vb_end = pos + 2 + data[pos + 1]
            pos += 2
        else:
            _, pos, vb_end = header(data, pos)
        if vb_end > end:
            raise DecodeError("truncated variable binding")
        if data[pos] != OBJECT_IDENTIFIER or data[pos + 1] >= 0x80:
            raise DecodeError("variable binding name is not a short OID")
        ostart, oend = pos + 2, pos + 2 + data[pos + 1]
        raw = data[ostart:oend]
        oid = known(raw)
        if oid is None:
            oid = decode_oid(data, ostart, oend)
            if len(cache) >= limit:
                cache.clear()
            cache[raw] = oid
        tag = data[oend]
        if data[oend + 1] < 0x80:
            vstart, vend = oend + 2, oend + 2 + data[oend + 1]
        else:
            tag, vstart, vend = header(data, oend)
        if vend != vb_end:
            raise DecodeError("malformed variable binding")
        value: Value
        if tag == INTEGER:
            value = from_bytes(data[vstart:vend], "big", signed=True)
        elif tag in UNSIGNED:
            value = from_bytes(data[vstart:vend], "big", signed=False)
        elif tag in (OCTET_STRING, IP_ADDRESS, OPAQUE):
            value = data[vstart:vend]
        elif tag == OBJECT_IDENTIFIER:
            value = decode_oid(data, vstart, vend)
        elif tag == NULL or tag in EXCEPTIONS:
            value = None
        else:
            raise DecodeError(f"unknown value tag 0x{tag:02x}")
        append((oid, tag, value))
        pos = vb_end
    return out
