"""Minutes of a machine-room night on a controllable clock: what Alertmanager is told, and when.

The receiver runs without its listeners; events go straight to its handlers and each flush's batch is read
back from its disk queue, exactly as the delivery thread would send it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from exporters.events.alerts import Post
from exporters.events.config import load_config
from exporters.events.receiver import Receiver
from exporters.events.trap import Trap
from tests.events.conftest import receiver_config

UPS = "127.0.0.3"  # ups-mr1-01
SWITCH = "127.0.0.6"  # agg-sw-inpatient
ON_BATTERY = "1.3.6.1.2.1.33.2.1"
LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def night(tmp_path: Path) -> tuple[Receiver, Clock]:
    """Return a receiver on a test clock (flap hold 30 s, resend 60 s, as shipped)."""
    config = receiver_config(tmp_path, 9, defaults={"flap_hold_seconds": 30})
    config["alertmanager"]["resend_seconds"] = 60
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(config))
    loaded = load_config(path)
    clock = Clock()
    return Receiver(lambda: loaded, clock=clock), clock


def flush(receiver: Receiver) -> list[Post]:
    """Flush and return what was queued for Alertmanager."""
    receiver.flush()
    [queue] = receiver.queues.values()
    posts: list[Post] = []
    while (item := queue.peek(timeout=0)) is not None:
        posts += item[1]
        queue.pop(item[0])
    return posts


def link(up: bool, port: int = 12) -> Trap:
    """Return a linkDown/linkUp from the inpatient aggregation switch."""
    binds: list[tuple[tuple[int, ...], str]] = [((1, 3, 6, 1, 2, 1, 2, 2, 1, 1, port), str(port))]
    return Trap(SWITCH, None, LINK_UP if up else LINK_DOWN, binds)


def test_ups_on_battery_trap_every_minute_then_silence_ends_three_minutes_after_the_last(night: Any) -> None:
    receiver, clock = night
    start = clock.now
    binds = [((1, 3, 6, 1, 2, 1, 33, 1, 2, 3, 0), "25")]
    for minute in range(5):  # mains fails; the UPS repeats upsTrapOnBattery each minute
        clock.now = start + 60 * minute
        receiver.on_trap(Trap(UPS, None, ON_BATTERY, binds))
        posts = flush(receiver)
        # Told once when it starts, then refreshed once a minute: one post per minute, still firing.
        assert [(p.starts_at, p.ends_at) for p in posts] == [(start, None)]
    last = clock.now
    clock.now = last + 179
    assert [p.ends_at for p in flush(receiver)] == [None]  # still firing: a refresh
    clock.now = last + 181
    [ended] = flush(receiver)
    assert ended.ends_at == last + 180 and ended.labels["alertname"] == "UPSOnBattery"
    assert ended.annotations["events"] == "5"
    assert receiver.book.alerts == {}


def test_a_port_bouncing_inside_the_flap_hold_stays_one_alert_and_ends_when_it_settles(night: Any) -> None:
    receiver, clock = night
    start = clock.now
    receiver.on_trap(link(up=False))
    [opened] = flush(receiver)
    for second in range(1, 20):  # up, down, up, ... every second
        clock.now = start + second
        receiver.on_trap(link(up=bool(second % 2)))
        assert flush(receiver) == []
    settled = clock.now  # the last trap (second 19) was linkUp
    clock.now = settled + 29
    assert flush(receiver) == []
    clock.now = settled + 31
    [ended] = flush(receiver)
    assert ended.starts_at == opened.starts_at == start and ended.ends_at == settled
    assert ended.annotations["flaps"] == "9" and ended.annotations["events"] == "10"


def test_a_switch_reporting_every_port_down_is_capped_per_rule_and_repeats_are_free(night: Any) -> None:
    receiver, clock = night
    for port in range(1, 131):  # 130 ports go down within a second; the rule allows 120 new alerts a minute
        receiver.on_trap(link(up=False, port=port))
    posts = flush(receiver)
    assert len(posts) == 120
    assert receiver.counts.limited[("trap", "if_link_down")] == 10
    for port in range(1, 121):  # the same ports again: their alerts are open, nothing is limited
        receiver.on_trap(link(up=False, port=port))
    assert receiver.counts.limited[("trap", "if_link_down")] == 10
    clock.now += 60  # a minute later the budget is back
    receiver.on_trap(link(up=False, port=130))
    assert [p.labels["ifIndex"] for p in flush(receiver) if p.labels.get("ifIndex") == "130"] == ["130"]


def test_open_alerts_survive_a_restart_and_are_refreshed_at_once(night: Any, tmp_path: Path) -> None:
    receiver, clock = night
    receiver.on_trap(link(up=False))
    [opened] = flush(receiver)
    again = Receiver(receiver.current, clock=clock)
    clock.now += 5
    [refreshed] = flush(again)
    assert refreshed.starts_at == opened.starts_at and refreshed.ends_at is None
    clock.now += 1
    again.on_trap(link(up=True))
    clock.now += 31
    [ended] = flush(again)
    assert ended.ends_at == clock.now - 31
