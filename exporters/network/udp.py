"""The fast SNMP session: a connected UDP socket and our own BER codec, no event loop (v1/v2c here; SNMPv3
in `usm.py` builds on it)."""

from __future__ import annotations

import errno
import secrets
import socket
import time
from collections.abc import Sequence

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.ber import RESPONSE, DecodeError, Oid, VarBind, decode_message, encode_request
from exporters.network.session import Limiter, SnmpErrorStatus

UNREACHABLE_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN})
RECV_BUFFER = 65535


def resolve(host: str, port: int) -> tuple[int, tuple[str, int]]:
    """Resolve a target to a UDP socket family and address, failing as unreachable."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ProbeFailed("unreachable", f"cannot resolve {host}") from exc
    family, _, _, _, addr = infos[0]
    return family, (str(addr[0]), int(addr[1]))


class UdpSession:
    """SNMP v1 or v2c over one connected UDP socket, with retries and timeouts inside the deadline."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        version: int,
        community: bytes,
        timeout: float,
        retries: int,
        limiter: Limiter,
    ) -> None:
        self.version = version
        self._community = community
        self._timeout = timeout
        self._retries = retries
        self._limiter = limiter
        self._target = f"{host}:{port}"
        family, addr = resolve(host, port)
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.connect(addr)
        except OSError as exc:
            self._sock.close()
            raise ProbeFailed("unreachable", f"cannot reach {self._target}: {exc.strerror}") from exc

    def request(
        self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int, deadline: Deadline
    ) -> list[VarBind]:
        """Send one request and wait for its response, retrying on silence."""
        for _ in range(self._retries + 1):
            if deadline.cap(self._timeout) <= 0:
                break
            request_id = secrets.randbits(31)
            message = self.encode(pdu_type, request_id, list(oids), max_repetitions)
            with self._limiter.slot(self._target, deadline):
                answer = self._exchange(message, request_id, time.monotonic() + deadline.cap(self._timeout))
            if answer is not None:
                return answer
        raise ProbeFailed(
            "timeout",
            f"no answer from {self._target} within the deadline "
            "(agent down, filtered, or a community it does not accept)",
        )

    def encode(self, pdu_type: int, request_id: int, oids: list[Oid], max_repetitions: int) -> bytes:
        """Encode one request message."""
        return encode_request(self.version, self._community, pdu_type, request_id, oids, 0, max_repetitions)

    def decode(self, data: bytes, request_id: int) -> list[VarBind] | None:
        """Decode an answer: its bindings, or None when it answers another request."""
        version, _, pdu_type, pdu = decode_message(data)
        if pdu.request_id != request_id or version != self.version or pdu_type != RESPONSE:
            return None  # a late answer to an earlier try
        if pdu.error_status:
            raise SnmpErrorStatus(pdu.error_status, pdu.error_index)
        return pdu.varbinds

    def _exchange(self, message: bytes, request_id: int, until: float) -> list[VarBind] | None:
        sock = self._sock
        try:
            sock.send(message)
            while (left := until - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data = sock.recv(RECV_BUFFER)
                except TimeoutError:
                    return None
                try:
                    answer = self.decode(data, request_id)
                except DecodeError as exc:
                    raise ProbeFailed(
                        "bad_response", f"undecodable answer from {self._target}: {exc}"
                    ) from None
                if answer is not None:
                    return answer
        except OSError as exc:
            if exc.errno in UNREACHABLE_ERRNOS:
                raise ProbeFailed("unreachable", f"{self._target}: {exc.strerror}") from None
            raise ProbeFailed("error", f"{self._target}: {exc.strerror}") from None
        return None

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()
