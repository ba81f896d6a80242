"""USM: key localisation against RFC 3414 A.3, protection round trips, tampering, security levels."""

from __future__ import annotations

import time

import pytest

from demo.servers.snmpd import free_udp_port
from exporters.core.probe import ProbeFailed
from exporters.network.ber import NULL, RESPONSE
from exporters.network.session import Limiter
from exporters.network.usm import UsmSession, _Engine, localized_key

ENGINE_ID = bytes.fromhex("000000000000000000000002")


@pytest.mark.parametrize(
    ("hash_name", "expected"),
    [
        ("md5", "526f5eed9fcce26f8964c2930787d82b"),  # A.3.1
        ("sha1", "6695febc9288e36282235fc7151f128497b38f3f"),  # A.3.2
    ],
)
def test_localized_keys_match_rfc_3414(hash_name: str, expected: str) -> None:
    assert localized_key(hash_name, b"maplesyrup", ENGINE_ID).hex() == expected


def _session(auth: tuple[str, str] | None, priv: tuple[str, str] | None) -> UsmSession:
    session = UsmSession(
        "127.0.0.1", free_udp_port(), username="noc", auth=auth, priv=priv, context_name="",
        timeout=1, retries=0, limiter=Limiter(4, 2),
    )  # fmt: skip
    session._engine = _Engine(bytes.fromhex("80001f8880aabbccdd"), 7, 123456, time.monotonic())
    return session


OID = (1, 3, 6, 1, 2, 1, 1, 5, 0)


@pytest.mark.parametrize("auth", ["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"])
def test_protected_messages_round_trip_and_tampering_is_caught(auth: str) -> None:
    session = _session((auth, "auth-password"), ("AES", "priv-password"))
    try:
        # An agent sharing the keys would answer with the same protection: build one as our own encoder does.
        answer = session.encode(RESPONSE, 42, [OID], 0)
        assert session.decode(answer, 42) == [(OID, NULL, None)]
        assert session.decode(answer, 43) is None  # another request's answer
        tampered = bytearray(answer)
        tampered[-3] ^= 0x01
        with pytest.raises(ProbeFailed, match="failed authentication"):
            session.decode(bytes(tampered), 42)
    finally:
        session.close()


def test_answers_below_our_security_level_are_ignored() -> None:
    strict = _session(("SHA", "auth-password"), ("AES", "priv-password"))
    lax = _session(None, None)
    try:
        plain = lax.encode(RESPONSE, 42, [OID], 0)
        assert lax.decode(plain, 42) == [(OID, NULL, None)]
        assert strict.decode(plain, 42) is None
    finally:
        strict.close()
        lax.close()
