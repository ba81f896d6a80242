"""The synthetic HL7 v2 message the MLLP probe sends, and the parsing of its acknowledgement."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from exporters.lis.config import MllpModule

ACK_CODES = frozenset({"AA", "AE", "AR", "CA", "CE", "CR"})
POSITIVE = frozenset({"AA", "CA"})

_counter = itertools.count(1)


def control_id() -> str:
    """Return a message control id unique in this process and across restarts (20 characters at most)."""
    return f"HM{int(time.time()):010d}{next(_counter) % 100000:05d}"


def synthetic_message(spec: MllpModule, control: str, now: time.struct_time | None = None) -> str:
    """Return the probe's message as segments joined by carriage returns, without MLLP framing."""
    stamp = time.strftime("%Y%m%d%H%M%S", now or time.localtime())
    msh = (
        f"MSH|^~\\&|{spec.sending_application}|{spec.sending_facility}|{spec.receiving_application}|"
        f"{spec.receiving_facility}|{stamp}||{spec.message_type}|{control}|{spec.processing_id}|{spec.version}"
    )
    pid = f"PID|1||{spec.patient_id}^^^HOSPMON||PROBE^HOSPMON||19700101|U"
    if spec.message_type == "ADT^A01":
        segments = [msh, f"EVN|A01|{stamp}", pid, "PV1|1|O"]
    else:
        segments = [msh, pid, f"ORC|NW|{control}", f"OBR|1|{control}||HOSPMON^Monitoring probe^L"]
    return "\r".join(segments) + "\r"


class AckError(ValueError):
    """The answer is not an HL7 acknowledgement of our message."""


@dataclass(frozen=True)
class Ack:
    """An acknowledgement: MSA-1 code, MSA-2 control id and MSA-3 text (which may name a patient)."""

    code: str
    control_id: str
    text: str

    @property
    def positive(self) -> bool:
        """Tell whether the receiver accepted the message."""
        return self.code in POSITIVE


def parse_ack(message: str) -> Ack:
    """Parse the MSA segment of an ER7 acknowledgement, raising `AckError` when there is none."""
    segments = [s for s in message.replace("\n", "\r").split("\r") if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 4:
        raise AckError("no MSH segment")
    sep = segments[0][3]
    for segment in segments[1:]:
        fields = segment.split(sep)
        if fields[0] == "MSA":
            code = fields[1].strip() if len(fields) > 1 else ""
            if code not in ACK_CODES:
                raise AckError("MSA-1 is not an acknowledgement code")
            return Ack(code, fields[2] if len(fields) > 2 else "", fields[3] if len(fields) > 3 else "")
    raise AckError("no MSA segment")
