"""The pysnmp backend: SNMPv3 with the protocols our codec does not speak (DES, AES-192/256), and any auth
with ``backend: pysnmp``; also the reference our codec is tested against.

pysnmp is asyncio-based; each session owns a private event loop driven from the probe's worker thread, so
no loop or engine is shared between probes.

A wrong privacy password is told from a dead agent within the first exchange, as the fast path does
(``privcheck``): the agent drops what it cannot decrypt without a report, so when the session's first
encrypted request goes unanswered for a moment (`QUIET`), an encrypted GET and then an authenticated-only
one go out (the canary, by our own codec: it speaks every authentication protocol, at a fraction of
pysnmp's CPU). An agent that answers the canary but neither encrypted request, twice in a row, shares our
authentication key and cannot decrypt what we send.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
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
SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
QUIET = 0.3  # seconds of idle waiting that count as silence; a loopback or LAN agent answers far sooner
STEP = 0.05
PAIRS = 2  # canary rounds: one lost datagram is not enough to blame the password


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
        canary: Callable[[Deadline], bool] | None = None,
        timeout: float,
        retries: int,
        limiter: Limiter,
    ) -> None:
        self.version = version
        self._host, self._port = host, port
        self._auth = auth_data
        self._canary = canary  # an authenticated-only GET (authPriv auths only): did the agent answer?
        self._answered = False
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
            if self._canary is not None and not self._answered:
                work = self._first_private(pdu_type, oids, max_repetitions, deadline)
            else:
                work = self._request(pdu_type, oids, max_repetitions, deadline)
            try:
                answer = self._loop.run_until_complete(asyncio.wait_for(work, deadline.remaining()))
            except TimeoutError:
                raise ProbeFailed("timeout", f"no answer from {self._target} within the deadline") from None
            self._answered = True
            return answer

    async def _first_private(
        self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int, deadline: Deadline
    ) -> list[VarBind]:
        """Send the session's first encrypted request; fail with ``auth`` if only the canary is answered."""
        assert self._canary is not None
        first = asyncio.ensure_future(self._request(pdu_type, oids, max_repetitions, deadline))
        await _quiet({first}, deadline)
        for _ in range(PAIRS):
            if first.done():
                return first.result()
            probe = asyncio.ensure_future(self._request(GET, [SYS_UPTIME], 0, deadline))
            canary: asyncio.Future[bool] | None = None
            try:
                await _quiet({first, probe}, deadline)  # the encrypted GET is out before the canary
                if not first.done() and not probe.done():
                    canary = asyncio.ensure_future(asyncio.to_thread(self._canary, deadline))
                    await asyncio.wait({first, canary}, return_when=asyncio.FIRST_COMPLETED)
                    if not first.done() and not canary.result():
                        return await first  # silence all round: the usual retries and timeout decide
                    await _quiet({first, probe}, deadline)
                if probe.done() and not first.done() and probe.exception() is None:
                    return await first  # an encrypted GET came back: the key is right, the agent is slow
            finally:
                _drop(probe)
                if canary is not None:
                    _drop(canary)
        if first.done():
            return first.result()
        _drop(first)
        raise ProbeFailed(
            "auth",
            f"{self._target} answers authenticated requests but drops encrypted ones: "
            "wrong privacy password or protocol",
        )

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


async def _quiet(tasks: set[asyncio.Future[Any]], deadline: Deadline) -> None:
    """Return when one of `tasks` is done, or once the loop has waited idle for `QUIET` seconds on end.

    pysnmp spends a great deal of CPU on its first messages (seconds on a loaded host), on this loop's
    thread: silence counts only while that thread spends (almost) no CPU, when every request is out and
    waiting for the agent. Wall time alone would count pysnmp's own work, or a loaded host's scheduling
    delays, as the agent's silence.
    """
    loop = asyncio.get_running_loop()
    idle = 0.0
    while idle < QUIET and deadline.remaining() > 0 and not any(t.done() for t in tasks):
        wall, cpu = loop.time(), time.thread_time()
        await asyncio.wait(tasks, timeout=deadline.cap(STEP), return_when=asyncio.FIRST_COMPLETED)
        spent = loop.time() - wall
        idle = idle + spent if time.thread_time() - cpu < spent / 4 else 0.0


def _drop(task: asyncio.Future[Any]) -> None:
    """Cancel a request no longer wanted, or take its outcome so that asyncio does not report it."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


def community_data(community: bytes, version: int) -> Any:
    """Build pysnmp's community data for SNMPv1 (version 0) or v2c (version 1)."""
    return hl.CommunityData(community.decode(), mpModel=version)
