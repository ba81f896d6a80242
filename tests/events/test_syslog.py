"""Syslog as devices really send it: each shipped example line maps to its rule, and TCP framing survives
split writes, mixed framing, oversized messages and broken counts."""

from __future__ import annotations

import pytest

from exporters.events.ruleload import load_rules
from exporters.events.syslog import FrameError, Framer, parse
from tests.events.conftest import REPO

RULES = load_rules([REPO / "rules" / "events"])

# (line as the device sends it, rule, resolves?, fields the rule keys and labels on)
EXAMPLES = [
    (
        "<187>Jan 20 2026 03:12:45 ACC-SW-ICU-5F %%01IFPDT/4/IF_STATE(l)[12]:Interface GigabitEthernet0/0/24 "
        "has turned into DOWN state.",
        "huawei_interface_down", False, {"interface": "GigabitEthernet0/0/24"},
    ),
    (
        "<189>Jan 20 2026 03:14:02 ACC-SW-ICU-5F %%01IFPDT/4/IF_STATE(l)[13]:Interface GigabitEthernet0/0/24 "
        "has turned into UP state.",
        "huawei_interface_down", True, {"interface": "GigabitEthernet0/0/24"},
    ),
    (
        "<188>Jan 20 03:12:45 2026 AGG-SW-OUTPATIENT %%10IFNET/3/PHY_UPDOWN: Physical state on the interface "
        "GigabitEthernet1/0/1 changed to down.",
        "h3c_interface_down", False, {"interface": "GigabitEthernet1/0/1"},
    ),
    (
        "<188>Jan 20 03:13:01 2026 AGG-SW-OUTPATIENT %%10IFNET/3/PHY_UPDOWN: Physical state on the interface "
        "GigabitEthernet1/0/1 changed to up.",
        "h3c_interface_down", True, {"interface": "GigabitEthernet1/0/1"},
    ),
    (
        "<187>57: *Mar  1 00:01:02.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
        "cisco_interface_down", False, {"interface": "GigabitEthernet0/1"},
    ),
    (
        "<187>58: ACC-SW-LAB-2F: *Mar  1 00:01:09.001: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed "
        "state to up",
        "cisco_interface_down", True, {"interface": "GigabitEthernet0/1"},
    ),
    (
        "<161>Jan 20 2026 03:12:45 FW-INTRANET-1 : %ASA-1-104001: (Secondary) Switching to ACTIVE - "
        "Other unit wants me Active.",
        "firewall_failover", False, {"unit": "Secondary", "role": "ACTIVE"},
    ),
    (
        "<3>Jan 20 03:12:45 db-his-node1 kernel: md/raid1:md0: Disk failure on sdb1, disabling device.",
        "linux_raid_disk_failed", False, {"array": "md0", "disk": "sdb1"},
    ),
    (
        "<165>1 2026-01-20T03:12:45.000+08:00 nas-pacs-1 smartd 812 - [meta sequenceId=\"7\"] "
        "Device: /dev/sda [SAT], FAILED SMART self-check. BACK UP DATA NOW!",
        "smart_self_check_failed", False, {"disk": "/dev/sda"},
    ),
    (
        "<3>Jan 20 03:12:45 pacs-app-1 kernel: [812345.12] nfs: server nas-pacs-1 not responding, "
        "still trying",
        "nfs_server_not_responding", False, {"server": "nas-pacs-1"},
    ),
    (
        "<5>Jan 20 03:14:45 pacs-app-1 kernel: [812465.80] nfs: server nas-pacs-1 OK",
        "nfs_server_not_responding", True, {"server": "nas-pacs-1"},
    ),
    (
        "<3>Jan 20 03:12:45 db-his-node1 kernel: blk_update_request: I/O error, dev sdc, sector 1234 "
        "op 0x0:(READ)",
        "linux_disk_io_error", False, {"disk": "sdc"},
    ),
    (
        "<3>Jan 20 03:12:45 vm-host-1 kernel: EXT4-fs error (device dm-2): ext4_find_entry:1455: inode #2",
        "linux_filesystem_error", False, {"device": "dm-2"},
    ),
    (
        "<3>Jan 20 03:12:45 app-his-1 kernel: Out of memory: Killed process 4121 (java) total-vm:8123456kB",
        "linux_out_of_memory", False, {"process": "java"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "rule", "resolves", "fields"), EXAMPLES, ids=[e[1] + ("+up" if e[2] else "") for e in EXAMPLES]
)
def test_shipped_example_lines_map_to_their_rule(
    line: str, rule: str, resolves: bool, fields: dict[str, str]
) -> None:
    message = parse(line.encode())
    hits = RULES.match_syslog(message.app, message.hostname, message.message)
    assert [(h.rule.name, h.resolve) for h in hits] == [(rule, resolves)]
    assert {k: hits[0].fields[k] for k in fields} == fields


def test_administratively_down_is_not_a_fault_and_noise_matches_nothing() -> None:
    for line in (
        "<189>12: *Mar  1 00:01:02: %LINK-5-CHANGED: Interface Gi0/3, changed state to administratively down",
        "<190>Jan 20 2026 03:12:45 CORE-SW-1 %%01SHELL/5/CMDRECORD(s)[3]:Recorded command: display version",
    ):
        message = parse(line.encode())
        assert RULES.match_syslog(message.app, message.hostname, message.message) == []


def test_headers_read_as_rfc_5424_and_3164_and_chinese_in_gb18030() -> None:
    message = parse(b"<165>1 - nas-1 smartd - ID47 - \xef\xbb\xbfhello")
    assert (message.facility, message.severity_name, message.hostname, message.app, message.message) == (
        20, "notice", "nas-1", "smartd", "hello",
    )  # fmt: skip
    message = parse("<12>Jan  5 07:59:01 ups-mr1-02 upsd[77]: 市电中断 电池供电\n".encode("gb18030"))
    assert (message.hostname, message.app, message.message) == ("ups-mr1-02", "upsd", "市电中断 电池供电")
    message = parse(b"no priority at all")
    assert (message.facility, message.severity, message.message) == (1, 5, "no priority at all")


def test_tcp_framing_octet_counted_and_newline_mixed_split_anywhere() -> None:
    first, second = b"<13>Jan 20 03:12:45 h app: one", b"<13>Jan 20 03:12:46 h app: two"
    stream = b"%d %s" % (len(first), first) + second + b"\r\n" + b"<13>three\x00"
    for cut in range(len(stream)):
        framer = Framer(max_bytes=1024)
        got = framer.feed(stream[:cut]) + framer.feed(stream[cut:])
        assert got == [first, second, b"<13>three"], cut


def test_oversized_messages_are_cut_or_skipped_and_counted_and_the_stream_goes_on() -> None:
    framer = Framer(max_bytes=480)
    big = b"x" * 600
    got = framer.feed(b"600 " + big + b"4 next")
    assert got == [b"next"] and framer.oversized == 1
    got = framer.feed(b"<13>" + big + b"\n<13>after\n")
    assert got == [b"<13>" + big[:476], b"<13>after"] and framer.oversized == 2
    with pytest.raises(FrameError):
        Framer(max_bytes=480).feed(b"12345678901234 not a count")
