"""Tell a wrong SNMPv3 privacy password from a slow agent within the first exchange.

An agent that cannot decrypt a message has nothing to answer with: net-snmp (5.9) counts an ASN.1 parse
error and drops it, without the ``usmStatsDecryptionErrors`` report RFC 3414 describes for DES padding.
Waiting out timeout x retries would read as ``timeout``. So when the first encrypted request of a session
goes unanswered for a few round trips, two small GETs go out together: the same GET encrypted, and an
authenticated-only one (the canary). An agent that answers the canary, by a response, an error or a
report, shares our authentication key and is alive; if it answers neither the encrypted GET nor the first
request by then, twice in a row (one lost packet is not enough), it cannot decrypt what we send.

The canary carries no secret but our MAC; on an agent whose access rules want privacy it gets
``authorizationError``, which is enough. A healthy session never sends it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.ber import GET, DecodeError, Oid, VarBind
from exporters.network.session import Limiter, SnmpErrorStatus

if TYPE_CHECKING:
    from exporters.network.config import Auth
    from exporters.network.usm import UsmSession

SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
MIN_WAIT = 0.05  # seconds: below this, scheduling noise on a loaded host would look like silence
PAIRS = 2


def first_private_request(
    session: UsmSession,
    pdu_type: int,
    oids: Sequence[Oid],
    max_repetitions: int,
    deadline: Deadline,
    round_trip: float,
) -> list[VarBind] | None:
    """Send the session's first encrypted request; return its answer, or None to go on retrying as usual.

    Raise `ProbeFailed` ``auth`` when the agent answers the canary but none of our encrypted messages.
    """
    wait = max(MIN_WAIT, 4 * round_trip)
    request_id = secrets.randbits(31)
    ids = {request_id: True}
    first = session.encode(pdu_type, request_id, list(oids), max_repetitions)
    with session.slot(deadline):
        session.send(first)
        answered = _wait(session, ids, deadline.cap(wait))
        if answered is not None:
            return answered[1]
        for _ in range(PAIRS):
            probe_id, canary_id = secrets.randbits(31), secrets.randbits(31)
            ids |= {probe_id: True, canary_id: False}
            session.send(session.encode(GET, probe_id, [SYS_UPTIME], 0))
            session.send(session.encode(GET, canary_id, [SYS_UPTIME], 0, private=False))
            answered = _wait(session, ids, deadline.cap(session.timeout))
            if answered is None:
                return None  # silence all round: the usual retries and timeout decide
            if answered[0] == request_id:
                return answered[1]
            if answered[0] != canary_id:
                return None  # an encrypted GET came back: the key is right, the agent is only slow
            # The canary came back first; the encrypted GET sent before it gets a little longer.
            late = _wait(session, {request_id: True, probe_id: True}, deadline.cap(wait))
            if late is not None:
                return late[1] if late[0] == request_id else None
    raise ProbeFailed(
        "auth",
        f"{session.target} answers authenticated requests but drops encrypted ones: "
        "wrong privacy password or protocol",
    )


def plain_canary(
    host: str, port: int, auth: Auth, password: str, timeout: float
) -> Callable[[Deadline], bool]:
    """Return the pysnmp backend's canary: one authenticated-only GET by our codec; did the agent answer?

    A response, an error-status (authorizationError: the agent wants privacy) or a report all mean the agent
    is alive and knows the user; silence or an unreachable port do not.
    """
    from exporters.network.usm import UsmSession

    def answered(deadline: Deadline) -> bool:
        session = UsmSession(
            host,
            port,
            username=str(auth.username),
            auth=(auth.auth_protocol, password),
            priv=None,
            context_name=auth.context_name,
            timeout=timeout,
            retries=0,
            limiter=Limiter(1, 1),  # its own: the pysnmp request it vouches for holds a slot already
        )
        try:
            session.request(GET, [SYS_UPTIME], 0, deadline)
        except SnmpErrorStatus:
            return True
        except ProbeFailed as exc:
            return exc.reason == "auth"
        finally:
            session.close()
        return True

    return answered


def _wait(session: UsmSession, ids: dict[int, bool], seconds: float) -> tuple[int, list[VarBind]] | None:
    """Return the first answer to one of `ids` (id -> encrypted) within `seconds`, or None."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        data = session.receive(left)
        if data is None:
            return None
        for request_id, private in ids.items():
            try:
                answer = session.decode(data, request_id, private=private)
            except (SnmpErrorStatus, ProbeFailed):
                if private:
                    raise
                return request_id, []  # the canary's refusal or report is an answer too
            except DecodeError as exc:
                raise ProbeFailed(
                    "bad_response", f"undecodable answer from {session.target}: {exc}"
                ) from None
            if answer is not None:
                return request_id, answer
    return None
