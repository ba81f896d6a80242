"""Request limits: waiting for a slot counts against the deadline; other targets are not held up."""

from __future__ import annotations

import threading
import time

import pytest

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.session import Limiter


def test_a_full_target_makes_the_next_request_wait_then_time_out() -> None:
    limiter = Limiter(overall=10, per_target=1)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with limiter.slot("10.0.0.1:161", Deadline.after(5)):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    start = time.monotonic()
    with pytest.raises(ProbeFailed) as info, limiter.slot("10.0.0.1:161", Deadline.after(0.3)):
        pass
    assert info.value.reason == "timeout"
    assert 0.25 < time.monotonic() - start < 1.0
    with limiter.slot("10.0.0.2:161", Deadline.after(0.3)):  # another target is not held up
        pass
    release.set()
    holder.join()
    with limiter.slot("10.0.0.1:161", Deadline.after(0.3)):  # released after use
        pass


def test_overall_limit_applies_across_targets() -> None:
    limiter = Limiter(overall=1, per_target=5)
    with (
        limiter.slot("a:161", Deadline.after(1)),
        pytest.raises(ProbeFailed),
        limiter.slot("b:161", Deadline.after(0.2)),
    ):
        pass
    with limiter.slot("b:161", Deadline.after(0.2)):
        pass
