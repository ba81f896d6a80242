"""The BER codec on hand-made messages: exact 64-bit values, large sub-identifiers, malformed input."""

from __future__ import annotations

import pytest

from exporters.network import ber


def _response(varbinds: bytes, request_id: int = 7, status: int = 0) -> bytes:
    def tlv(tag: int, body: bytes) -> bytes:
        return ber.tlv(tag, body)

    pdu = tlv(
        ber.RESPONSE, ber.integer(request_id) + ber.integer(status) + ber.integer(0) + tlv(0x30, varbinds)
    )
    return tlv(0x30, ber.integer(1) + tlv(ber.OCTET_STRING, b"public") + pdu)


def _vb(oid: ber.Oid, tag: int, content: bytes) -> bytes:
    return ber.tlv(0x30, ber.tlv(ber.OBJECT_IDENTIFIER, ber.encode_oid(oid)) + ber.tlv(tag, content))


def test_counter64_and_unsigned_values_are_exact() -> None:
    big = 2**64 - 1
    msg = _response(
        _vb((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), ber.COUNTER64, b"\x00" + big.to_bytes(8, "big"))
        + _vb((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), ber.COUNTER32, b"\x00\xff\xff\xff\xff")
        + _vb((1, 3, 6, 1, 2, 1, 1, 3, 0), ber.TIMETICKS, b"\x01\x00")
        + _vb((1, 3, 6, 1, 4, 1, 1), ber.INTEGER, b"\xff")
    )
    version, community, pdu_type, pdu = ber.decode_message(msg)
    assert (version, community, pdu_type, pdu.request_id) == (1, b"public", ber.RESPONSE, 7)
    assert [vb[2] for vb in pdu.varbinds] == [big, 2**32 - 1, 256, -1]


def test_oids_with_large_subidentifiers_round_trip() -> None:
    oid = (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 1, 1, 5, 16842753, 2**32 - 1)
    raw = ber.encode_oid(oid)
    assert ber.decode_oid(raw, 0, len(raw)) == oid
    assert ber.decode_oid(b"\x2b\x06\x01", 0, 3) == (1, 3, 6, 1)


def test_strings_oids_and_exceptions_decode() -> None:
    msg = _response(
        _vb((1, 3, 6, 1, 2, 1, 1, 5, 0), ber.OCTET_STRING, "机房".encode())
        + _vb((1, 3, 6, 1, 2, 1, 1, 2, 0), ber.OBJECT_IDENTIFIER, ber.encode_oid((1, 3, 6, 1, 4, 1, 8072)))
        + _vb((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 1), ber.IP_ADDRESS, bytes([10, 0, 0, 1]))
        + _vb((1, 3, 6, 1, 2, 1, 1, 9, 0), ber.NO_SUCH_INSTANCE, b"")
        + _vb((1, 3, 6, 1, 2, 1, 1, 9, 1), ber.END_OF_MIB_VIEW, b"")
    )
    values = [(tag, value) for _, tag, value in ber.decode_message(msg)[3].varbinds]
    assert values == [
        (ber.OCTET_STRING, "机房".encode()),
        (ber.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 8072)),
        (ber.IP_ADDRESS, b"\n\x00\x00\x01"),
        (ber.NO_SUCH_INSTANCE, None),
        (ber.END_OF_MIB_VIEW, None),
    ]


def test_long_length_form_is_decoded() -> None:
    text = b"x" * 300
    msg = _response(_vb((1, 3, 6, 1, 2, 1, 1, 1, 0), ber.OCTET_STRING, text))
    assert ber.decode_message(msg)[3].varbinds[0][2] == text


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30\x05\x02\x01", b"\x30\x03\x04\x01x", b"\x31\x00", b"\x30\x84\xff\xff\xff\xff"],
)
def test_malformed_messages_raise_decode_error(data: bytes) -> None:
    with pytest.raises(ber.DecodeError):
        ber.decode_message(data)


def test_request_encoding_is_understood_by_the_decoder() -> None:
    msg = ber.encode_request(1, b"public", ber.GETBULK, 2**31 - 1, [(1, 3, 6, 1, 2, 1, 2)], 0, 25)
    version, community, pdu_type, pdu = ber.decode_message(msg)
    assert (version, community, pdu_type, pdu.request_id, pdu.error_index) == (
        1,
        b"public",
        ber.GETBULK,
        2**31 - 1,
        25,
    )
    assert pdu.varbinds == [((1, 3, 6, 1, 2, 1, 2), ber.NULL, None)]


def test_decoded_names_never_outgrow_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fleet whose switches number their ports apart (ifIndex 1-48, 10101-10148, 6-53...) answers more
    names than the cache holds: it is emptied and refilled, never larger than its bound, and every name
    still decodes right."""
    cache = ber._OidCache()
    cache.limit = 100
    monkeypatch.setattr(ber, "_OID_CACHE", cache)
    for first in (1, 10101, 6, 4097):
        rows = [(1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, first + port) for port in range(48)]
        varbinds = b"".join(_vb(oid, ber.COUNTER64, b"\x2a") for oid in rows * 2)
        _, _, _, pdu = ber.decode_message(_response(varbinds))
        assert [vb[0] for vb in pdu.varbinds] == rows * 2
        assert 0 < len(cache) <= 100
