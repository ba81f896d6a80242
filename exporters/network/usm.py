"""The fast SNMPv3 session: the User-based Security Model (RFC 3414; SHA-2 per RFC 7860) with AES-128
privacy (RFC 3826), on the same UDP session and BER codec as v1/v2c.

pysnmp spends ~50 times our CPU on an SNMPv3 walk; authPriv is the production default, so it gets the fast
path too. Other privacy protocols (DES, AES-192/256) stay with pysnmp.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.ber import (
    GET,
    OCTET_STRING,
    REPORT,
    RESPONSE,
    DecodeError,
    Oid,
    VarBind,
    decode_pdu,
    encode_pdu,
    expect,
    integer,
    read_int,
    tlv,
)
from exporters.network.privcheck import first_private_request
from exporters.network.session import Limiter, SnmpErrorStatus
from exporters.network.udp import RECV_BUFFER, UNREACHABLE_ERRNOS, UdpSession

# auth protocol: (hashlib name, MAC length in bytes)
AUTH_HASHES = {
    "MD5": ("md5", 12),
    "SHA": ("sha1", 12),
    "SHA224": ("sha224", 16),
    "SHA256": ("sha256", 24),
    "SHA384": ("sha384", 32),
    "SHA512": ("sha512", 48),
}
FAST_PRIV = frozenset({"AES"})
AUTH_FLAG, PRIV_FLAG, REPORTABLE_FLAG = 0x01, 0x02, 0x04
MAX_MESSAGE_SIZE = 65507
USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
NOT_IN_TIME_WINDOW = (*USM_STATS, 2, 0)
UNKNOWN_ENGINE_ID = (*USM_STATS, 4, 0)
REPORT_NAMES: dict[Oid, str] = {
    (*USM_STATS, 1, 0): "unsupported security level",
    (*USM_STATS, 3, 0): "unknown user name",
    (*USM_STATS, 5, 0): "wrong digest (authentication password)",
    (*USM_STATS, 6, 0): "decryption error (privacy password)",
}
PASSWORD_EXPANSION = 1_048_576


@functools.lru_cache(maxsize=256)
def _master_key(hash_name: str, password: bytes) -> bytes:
    """Return Ku: the hash of the password repeated to 1 MiB (RFC 3414 A.2)."""
    repeated = password * (PASSWORD_EXPANSION // len(password) + 1)
    return hashlib.new(hash_name, repeated[:PASSWORD_EXPANSION]).digest()


@functools.lru_cache(maxsize=4096)
def localized_key(hash_name: str, password: bytes, engine_id: bytes) -> bytes:
    """Return the key localised to one engine: H(Ku || engineID || Ku)."""
    ku = _master_key(hash_name, password)
    return hashlib.new(hash_name, ku + engine_id + ku).digest()


def fast_path_supports(auth_protocol: str | None, priv_protocol: str | None) -> bool:
    """Tell whether the fast path speaks this combination of protocols."""
    return (auth_protocol is None or auth_protocol in AUTH_HASHES) and (
        priv_protocol is None or priv_protocol in FAST_PRIV
    )


class _Resync(Exception):
    """The agent reported an unknown engine ID or a time outside the window: learn and resend."""


@dataclass
class _Engine:
    engine_id: bytes
    boots: int
    time: int
    learnt_at: float

    def now(self) -> int:
        return self.time + int(time.monotonic() - self.learnt_at)


class UsmSession(UdpSession):
    """SNMPv3 with USM over one connected UDP socket; the engine is discovered on first use."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str,
        auth: tuple[str, str] | None,
        priv: tuple[str, str] | None,
        context_name: str,
        timeout: float,
        retries: int,
        limiter: Limiter,
    ) -> None:
        super().__init__(
            host, port, version=3, community=b"", timeout=timeout, retries=retries, limiter=limiter
        )
        if priv is not None and auth is None:
            raise ValueError("privacy needs authentication")
        self._user = username.encode()
        self._auth = (AUTH_HASHES[auth[0]], auth[1].encode()) if auth else None
        self._priv_password = priv[1].encode() if priv else None
        self._context = context_name.encode()
        self._engine: _Engine | None = None
        self._salt = secrets.randbits(64)
        self._answered = False
        self._rtt = 0.0  # of engine discovery: how long an answer takes when the agent can read us

    @property
    def target(self) -> str:
        """Return ``host:port`` for messages."""
        return self._target

    @property
    def timeout(self) -> float:
        """Return the per-request timeout."""
        return self._timeout

    def slot(self, deadline: Deadline) -> AbstractContextManager[None]:
        """Hold one of the limiter's request slots for this target."""
        return self._limiter.slot(self._target, deadline)

    def send(self, message: bytes) -> None:
        """Send one message, failing as unreachable when the kernel knows the port is closed."""
        try:
            self._sock.send(message)
        except OSError as exc:
            raise self._os_failure(exc) from None

    def receive(self, seconds: float) -> bytes | None:
        """Return the next datagram within `seconds`, or None."""
        if seconds <= 0:
            return None
        try:
            self._sock.settimeout(seconds)
            return self._sock.recv(RECV_BUFFER)
        except TimeoutError:
            return None
        except OSError as exc:
            raise self._os_failure(exc) from None

    def _os_failure(self, exc: OSError) -> ProbeFailed:
        reason = "unreachable" if exc.errno in UNREACHABLE_ERRNOS else "error"
        return ProbeFailed(reason, f"{self._target}: {exc.strerror}")

    def request(
        self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int, deadline: Deadline
    ) -> list[VarBind]:
        """Send one request, discovering the agent's engine first and resynchronising its clock once."""
        for _ in range(3):
            try:
                if self._engine is None:
                    self._discover(deadline)
                    continue
                answer = None
                if self._priv_password is not None and not self._answered:
                    answer = first_private_request(self, pdu_type, oids, max_repetitions, deadline, self._rtt)
                if answer is None:
                    answer = super().request(pdu_type, list(oids), max_repetitions, deadline)
            except _Resync:
                continue
            except ProbeFailed as exc:
                if exc.reason == "timeout" and self._engine is not None and not self._answered:
                    # The agent answered discovery but none of our protected requests: it drops what it
                    # cannot decrypt, so this is a privacy password (or key) it does not share.
                    raise ProbeFailed(
                        "auth",
                        f"{self._target} answers discovery but not our requests (wrong privacy password?)",
                    ) from None
                raise
            self._answered = True
            return answer
        raise ProbeFailed("auth", f"{self._target}: cannot agree on engine ID and time with the agent")

    def _discover(self, deadline: Deadline) -> None:
        """Learn the agent's engine from its unknownEngineIDs report, timing the round trip."""
        started = time.monotonic()
        try:
            super().request(GET, [], 0, deadline)
        except _Resync:
            self._rtt = time.monotonic() - started
            raise

    def encode(
        self, pdu_type: int, request_id: int, oids: list[Oid], max_repetitions: int, *, private: bool = True
    ) -> bytes:
        """Encode one SNMPv3 message, authenticated and encrypted as the auth asks (`private` False: not
        encrypted)."""
        pdu = encode_pdu(pdu_type, request_id, oids, 0, max_repetitions)
        engine = self._engine
        if engine is None:  # discovery: no security, no user (RFC 3414 section 4)
            scoped = tlv(0x30, tlv(OCTET_STRING, b"") + tlv(OCTET_STRING, b"") + pdu)
            return self._message(request_id, REPORTABLE_FLAG, b"", 0, 0, b"", b"", b"", scoped)
        boots, now = engine.boots, engine.now()
        scoped = tlv(0x30, tlv(OCTET_STRING, engine.engine_id) + tlv(OCTET_STRING, self._context) + pdu)
        flags = REPORTABLE_FLAG
        mac_len = 0
        salt = b""
        if self._auth:
            flags |= AUTH_FLAG
            mac_len = self._auth[0][1]
        if self._priv_password is not None and private:
            flags |= PRIV_FLAG
            self._salt = (self._salt + 1) % 2**64
            salt = self._salt.to_bytes(8, "big")
            iv = boots.to_bytes(4, "big") + now.to_bytes(4, "big") + salt
            scoped = tlv(OCTET_STRING, self._crypt(engine.engine_id, iv, scoped, encrypt=True))
        return self._message(
            request_id, flags, engine.engine_id, boots, now, self._user, b"\0" * mac_len, salt, scoped
        )

    def _message(
        self,
        msg_id: int,
        flags: int,
        engine_id: bytes,
        boots: int,
        now: int,
        user: bytes,
        auth_placeholder: bytes,
        salt: bytes,
        data: bytes,
    ) -> bytes:
        head = tlv(OCTET_STRING, engine_id) + integer(boots) + integer(now) + tlv(OCTET_STRING, user)
        usm_content = head + tlv(OCTET_STRING, auth_placeholder) + tlv(OCTET_STRING, salt)
        usm = tlv(0x30, usm_content)
        security = tlv(OCTET_STRING, usm)
        header = tlv(
            0x30,
            integer(msg_id) + integer(MAX_MESSAGE_SIZE) + tlv(OCTET_STRING, bytes((flags,))) + integer(3),
        )
        message = tlv(0x30, integer(3) + header + security + data)
        if not auth_placeholder:
            return message
        # The MAC replaces the zero placeholder: find it after the TLV headers in front of it.
        security_at = len(message) - len(security) - len(data)
        mac_at = security_at + (len(security) - len(usm)) + (len(usm) - len(usm_content)) + len(head) + 2
        mac = self._mac(engine_id, message)
        return message[:mac_at] + mac + message[mac_at + len(mac) :]

    def _mac(self, engine_id: bytes, message: bytes) -> bytes:
        assert self._auth is not None
        (hash_name, mac_len), password = self._auth
        key = localized_key(hash_name, password, engine_id)
        return hmac.new(key, message, hash_name).digest()[:mac_len]

    def _crypt(self, engine_id: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
        # imported here: a process with no authPriv user never loads the cipher (memory)
        from exporters.network.aes import decrypt_cfb, encrypt_cfb

        assert self._auth is not None and self._priv_password is not None
        key = localized_key(self._auth[0][0], self._priv_password, engine_id)[:16]
        return (encrypt_cfb if encrypt else decrypt_cfb)(key, iv, data)

    def decode(self, data: bytes, request_id: int, *, private: bool = True) -> list[VarBind] | None:
        """Check, decrypt and decode an answer; None when it answers another request or is less protected
        than asked (`private` False: an authenticated answer is enough)."""
        start, _ = expect(data, 0, 0x30)
        version, pos = read_int(data, start)
        if version != 3:
            return None
        gstart, gend = expect(data, pos, 0x30)
        msg_id, pos = read_int(data, gstart)
        _, pos = read_int(data, pos)
        fstart, fend = expect(data, pos, OCTET_STRING)
        flags = data[fstart] if fend > fstart else 0
        if msg_id != request_id:
            return None
        sstart, send = expect(data, gend, OCTET_STRING)
        ustart, _ = expect(data, sstart, 0x30)
        estart, eend = expect(data, ustart, OCTET_STRING)
        engine_id = data[estart:eend]
        boots, pos = read_int(data, eend)
        engine_time, pos = read_int(data, pos)
        _, pos = expect(data, pos, OCTET_STRING)  # user name
        astart, aend = expect(data, pos, OCTET_STRING)
        pstart, pend = expect(data, aend, OCTET_STRING)
        if flags & AUTH_FLAG:
            if self._auth is None:
                raise DecodeError("authenticated answer to an unauthenticated request")
            zeroed = data[:astart] + b"\0" * (aend - astart) + data[aend:]
            if not hmac.compare_digest(self._mac(engine_id, zeroed), data[astart:aend]):
                raise ProbeFailed("auth", f"{self._target}: answer failed authentication (wrong password?)")
        if flags & PRIV_FLAG:
            cstart, cend = expect(data, send, OCTET_STRING)
            iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + data[pstart:pend]
            body = self._crypt(engine_id, iv, data[cstart:cend], encrypt=False)
            pos = 0
        else:
            body, pos = data, send
        scoped_start, scoped_end = expect(body, pos, 0x30)
        _, pos = expect(body, scoped_start, OCTET_STRING)
        _, pos = expect(body, pos, OCTET_STRING)
        pdu_type, pdu = decode_pdu(body, pos, scoped_end)
        if pdu_type == REPORT:
            return self._report(
                pdu.varbinds, engine_id, boots, engine_time, authenticated=bool(flags & AUTH_FLAG)
            )
        if pdu_type != RESPONSE or pdu.request_id != request_id:
            return None
        if (self._auth and not flags & AUTH_FLAG) or (
            private and self._priv_password and not flags & PRIV_FLAG
        ):
            return None  # a response below our security level is not one we can trust
        if pdu.error_status:
            raise SnmpErrorStatus(pdu.error_status, pdu.error_index)
        return pdu.varbinds

    def _report(
        self, varbinds: list[VarBind], engine_id: bytes, boots: int, engine_time: int, *, authenticated: bool
    ) -> list[VarBind]:
        oid = varbinds[0][0] if varbinds else ()
        if oid == UNKNOWN_ENGINE_ID and engine_id:
            self._engine = _Engine(engine_id, boots, engine_time, time.monotonic())
            raise _Resync
        if oid == NOT_IN_TIME_WINDOW and self._engine is not None and (authenticated or self._auth is None):
            self._engine = _Engine(self._engine.engine_id, boots, engine_time, time.monotonic())
            raise _Resync
        what = REPORT_NAMES.get(oid, "report " + ".".join(map(str, oid)))
        raise ProbeFailed("auth", f"{self._target} refused the credentials: {what}")
