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


@pytest.mark.parametrize("where", ["libcrypto", "cryptography"])
def test_aes_cfb_matches_nist_and_round_trips(where: str) -> None:
    """AES-128-CFB128 (libcrypto, or the fallback) gives NIST SP 800-38A F.3.13's ciphertext and back."""
    from exporters.network import aes

    if where == "libcrypto":
        path = aes._libcrypto_path()
        assert path is not None, "the interpreter's hashlib runs on OpenSSL here"
        encrypt_cfb, decrypt_cfb = aes._evp(path)
    else:
        encrypt_cfb, decrypt_cfb = aes._cryptography()
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    iv = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    plain = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
    cipher = bytes.fromhex("3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b")
    assert encrypt_cfb(key, iv, plain) == cipher
    assert decrypt_cfb(key, iv, cipher) == plain
    assert encrypt_cfb(key, iv, plain[:5]) == cipher[:5]  # a stream mode: any length, no padding
