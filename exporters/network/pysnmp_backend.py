"""The pysnmp backend: SNMPv3 with the protocols our codec does not speak (DES, AES-192/256), and any auth
with ``backend: pysnmp``; also the reference our codec is tested against.

pysnmp is asyncio-based; each session owns a private event loop driven from the probe's worker thread, so
no loop or engine is shared between probes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.proto import errind
from pysnmp.smi.builder import MibBuilder
from pysnmp.smi.compiler import DEFAULT_DEST, add_mib_compiler
from pysnmp.smi.error import MibNotFoundError

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.ber import GET, GETBULK, GETNEXT, Oid, Value, VarBind
from exporters.network.session import Limiter, SnmpErrorStatus

AUTH_PROTOCOLS = {
    "MD5": hl.USM_AUTH_HMAC96_MD5,
    "SHA": hl.USM_AUTH_HMAC96_SHA,
    "SHA224": hl.USM_AUTH_HMAC128_SHA224,
    "SHA256": hl.USM_AUTH_HMAC192_SHA256,
    "SHA384": hl.USM_AUTH_HMAC256_SHA384,
    "SHA512": hl.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "DES": hl.USM_PRIV_CBC56_DES,
    "AES": hl.USM_PRIV_CFB128_AES,
    "AES192": hl.USM_PRIV_CFB192_AES,
    "AES256": hl.USM_PRIV_CFB256_AES,
    "AES192C": hl.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES256C": hl.USM_PRIV_CFB256_AES_BLUMENTHAL,
}
AUTH_FAILURES = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.UnknownSecurityName,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.DecryptionError,
    errind.UnsupportedSecurityLevel,
    errind.UnknownCommunityName,
    errind.NoSuchView,
    errind.NoAccessEntry,
    errind.NoGroupName,
    errind.NotInView,
    errind.NoSuchContext,
)
UNREACHABLE_MARKERS = ("refused", "unreachable", "resolve", "name or service")


def usm_user(
    username: str,
    auth_protocol: str | None,
    auth_key: str | None,
    priv_protocol: str | None,
    priv_key: str | None,
) -> Any:
    """Build pysnmp's USM user data for a security level implied by the keys given."""
    return hl.UsmUserData(
        username,
        authKey=auth_key,
        privKey=priv_key,
        authProtocol=AUTH_PROTOCOLS[auth_protocol] if auth_protocol and auth_key else hl.USM_AUTH_NONE,
        privProtocol=PRIV_PROTOCOLS[priv_protocol] if priv_protocol and priv_key else hl.USM_PRIV_NONE,
    )


class _LazyCompiler:
    """pysmi's MIB compiler, built only when a MIB module is really missing, then shared by every engine.

    pysnmp gives each engine a compiler of its own on its first request, and building one builds pysmi's
    LALR parser: about a second of CPU (several on a loaded machine) spent inside the probe's deadline, so a
    v3 probe through pysnmp timed out instead of reporting a wrong password. Our OIDs are numeric and never
    need a MIB compiled; if one ever does, it is compiled here, one caller at a time.
    """

    _lock = threading.Lock()
    _compiler: Any = None

    def compile(self, *names: str, **options: Any) -> Any:
        """Compile MIB modules as pysnmp's own compiler would."""
        with self._lock:
            if _LazyCompiler._compiler is None:
                builder = MibBuilder()
                add_mib_compiler(builder, ifAvailable=True)
                if builder.get_mib_compiler() is None:
                    raise MibNotFoundError(f"no MIB compiler (pysmi) to build {', '.join(names)}")
                _LazyCompiler._compiler = builder.get_mib_compiler()
            return _LazyCompiler._compiler.compile(*names, **options)


def to_varbind(name: Any, value: Any) -> VarBind:
    """Turn a pysnmp (name, value) pair into the ``(oid, tag, value)`` form of our decoder."""
    oid: Oid = tuple(int(x) for x in name)
    base = value.tagSet[-1]
    tag = base.tagClass | base.tagFormat | base.tagId
    out: Value
    if value.isValue is False or tag in (0x05, 0x80, 0x81, 0x82):
        out = None
    elif tag == 0x06:
        out = tuple(int(x) for x in value)
    elif tag in (0x04, 0x40, 0x44):
        out = bytes(value.asOctets())
    else:
        out = int(value)
    return oid, tag, out


class PysnmpSession:
    """SNMP through pysnmp's high-level API, one engine and event loop per session."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        version: int,
        auth_data: Any,
        context_name: str,
        timeout: float,
        retries: int,
        limiter: Limiter,
    ) -> None:
        self.version = version
        self._host, self._port = host, port
        self._auth = auth_data
        self._context = hl.ContextData(contextName=context_name)
        self._timeout = timeout
        self._retries = retries
        self._limiter = limiter
        self._target = f"{host}:{port}"
        self._loop = asyncio.new_event_loop()
        self._engine = hl.SnmpEngine()
        self._engine.get_mib_builder().set_mib_compiler(_LazyCompiler(), DEFAULT_DEST)

    def request(
        self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int, deadline: Deadline
    ) -> list[VarBind]:
        """Send one request through pysnmp, which retries on silence."""
        with self._limiter.slot(self._target, deadline):
            try:
                return self._loop.run_until_complete(
                    asyncio.wait_for(
                        self._request(pdu_type, oids, max_repetitions, deadline), deadline.remaining()
                    )
                )
            except TimeoutError:
                raise ProbeFailed("timeout", f"no answer from {self._target} within the deadline") from None

    async def _request(
        self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int, deadline: Deadline
    ) -> list[VarBind]:
        try:
            transport = await hl.UdpTransportTarget.create(
                (self._host, self._port),
                timeout=max(0.01, deadline.cap(self._timeout)),
                retries=self._retries,
            )
        except Exception as exc:  # pysnmp wraps resolver errors in its own types
            raise ProbeFailed("unreachable", f"cannot resolve {self._host}") from exc
        objs = [hl.ObjectType(hl.ObjectIdentity(".".join(map(str, o)))) for o in oids]
        common = (self._engine, self._auth, transport, self._context)
        if pdu_type == GET:
            result = await hl.get_cmd(*common, *objs, lookupMib=False)
        elif pdu_type == GETNEXT:
            result = await hl.next_cmd(*common, *objs, lookupMib=False)
        elif pdu_type == GETBULK:
            result = await hl.bulk_cmd(*common, 0, max_repetitions, *objs, lookupMib=False)
        else:
            raise ValueError(f"unsupported PDU type 0x{pdu_type:02x}")
        indication, status, index, varbinds = result
        if indication:
            raise self._failure(indication)
        if int(status):
            raise SnmpErrorStatus(int(status), int(index))
        return [to_varbind(vb[0], vb[1]) for vb in varbinds]

    def _failure(self, indication: Any) -> ProbeFailed:
        name = type(indication).__name__
        if isinstance(indication, errind.RequestTimedOut):
            return ProbeFailed("timeout", f"no answer from {self._target} within the deadline")
        if isinstance(indication, AUTH_FAILURES):
            return ProbeFailed("auth", f"{self._target} refused the credentials ({name})")
        text = str(indication).lower()
        if any(marker in text for marker in UNREACHABLE_MARKERS):
            return ProbeFailed("unreachable", f"{self._target}: {name}")
        return ProbeFailed("error", f"{self._target}: {name}")

    def close(self) -> None:
        """Close the engine's transports and the private loop."""
        try:
            self._engine.close_dispatcher()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self._loop.close()


def community_data(community: bytes, version: int) -> Any:
    """Build pysnmp's community data for SNMPv1 (version 0) or v2c (version 1)."""
    return hl.CommunityData(community.decode(), mpModel=version)
