"""The synthetic message and the parsing of acknowledgements, on recorded text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from exporters.lis.config import MllpModule
from exporters.lis.main import main
from exporters.lis.message import AckError, control_id, parse_ack, synthetic_message
from exporters.lis.mllp import frame
from hospmon.config import ConfigError, validate


def test_message_is_synthetic_and_framed() -> None:
    text = synthetic_message(MllpModule(), "HM1", time.struct_time((2026, 1, 2, 3, 4, 5, 4, 2, 0)))
    assert text.split("\r")[0] == ("MSH|^~\\&|HOSPMON|MONITORING|LIS|LAB|20260102030405||ADT^A01|HM1|T|2.5")
    assert "PID|1||HOSPMON-PROBE^^^HOSPMON||PROBE^HOSPMON" in text
    assert frame(text.encode()) == b"\x0b" + text.encode() + b"\x1c\x0d"


def test_control_ids_are_unique_and_short() -> None:
    ids = {control_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) <= 20 for i in ids)


@pytest.mark.parametrize(
    ("ack", "code", "positive"),
    [
        ("MSH|^~\\&|LIS|LAB|||20260101||ACK|1|P|2.5\rMSA|AA|HM1\r", "AA", True),
        ("MSH|^~\\&|LIS|LAB|||20260101||ACK|1|P|2.5\nMSA|AR|HM1|Unknown\n", "AR", False),
        ("MSH#^~\\&#LIS\rMSA#CE#HM1\r", "CE", False),
    ],
)
def test_parse_ack(ack: str, code: str, positive: bool) -> None:
    parsed = parse_ack(ack)
    assert (parsed.code, parsed.control_id, parsed.positive) == (code, "HM1", positive)


@pytest.mark.parametrize("ack", ["", "hello", "MSH|^~\\&|LIS\r", "MSH|^~\\&|LIS\rMSA|XX|HM1\r"])
def test_not_an_ack(ack: str) -> None:
    with pytest.raises(AckError):
        parse_ack(ack)


def test_config_refuses_separators() -> None:
    with pytest.raises(ConfigError, match="sending_application"):
        validate(MllpModule, {"sending_application": "A|B"}, "lis.yml")


def test_command_line_checks_the_config(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text("modules:\n  mllp: {message_type: ORM^O01, receiving_application: LIS}\n")
    bad.write_text("modules:\n  mllp: {message_type: ORU^R01, processing_id: X}\n")
    assert main(["--config.file", str(good), "--check-config"]) == 0
    assert main(["--config.file", str(bad), "--check-config"]) == 1
