"""The probe deadline comes from Prometheus' scrape timeout header."""

from __future__ import annotations

import pytest

from exporters.core.probe import deadline_seconds


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("10", 9.5),  # the header minus the 0.5 s offset
        (None, 10.0),  # absent: the default
        ("abc", 10.0),  # unparsable: the default
        ("-3", 10.0),  # negative: the default
        ("0", 10.0),  # zero: the default
        ("0.4", 0.3),  # too small for the offset: three quarters of it, so the answer arrives in time
        ("1", 0.75),
        ("nan", 10.0),
        ("inf", 10.0),
        ("2.5", 2.0),
    ],
)
def test_deadline_from_header(header: str | None, expected: float) -> None:
    assert deadline_seconds(header) == pytest.approx(expected)
