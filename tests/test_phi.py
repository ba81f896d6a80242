"""The PHI guard on values hospital systems really hold: what it refuses, by which rule, what it lets by."""

from __future__ import annotations

import logging

import pytest

from hospmon import phi
from hospmon.config import ConfigError, validate
from hospmon.phi import REDACTED, PhiGuard, PhiSettings
from hospmon.phi_patterns import label_name_problem, pattern_problem
from hospmon.phi_words import ALERT_WORDS, HAN_SURNAMES
from tests.canary import CANARY, leaks


@pytest.fixture(scope="module")
def guard() -> PhiGuard:
    return PhiGuard(extra_words=["核心交换机1", "门诊楼"])


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("110101 19900307 4514", "resident_id"),  # the example: spaced, checksum valid
        ("110101-19900307-4514", "resident_id"),
        ("11010519850815123X", "resident_id"),
        ("110105 19850815 123x", "resident_id"),
        ("110101199003074515", "resident_id"),  # checksum wrong (a typo at the desk), birth date real
        ("110101900307451", "resident_id"),  # the old 15-digit form
        ("13800138000", "mobile_phone"),
        ("138-0013-8000", "mobile_phone"),
        ("138 0013 8000", "mobile_phone"),
        ("+86 138 0013 8000", "mobile_phone"),
        ("bed 12 13800138000", "mobile_phone"),
        ("010-65123456", "landline_phone"),
        ("(0755) 8765 4321", "landline_phone"),
        ("+86 10 6512 3456", "landline_phone"),
        ("ext 6512-3456", "landline_phone"),
        ("MRN00000001", "record_number"),
        ("MRN-CANARY-3141592", "record_number"),
        ("zy20240001", "record_number"),
        ("MZ 2024-0001", "record_number"),
        ("住院号\uff1a20240815", "record_number"),
        ("nurse@ward5.example.cn", "email"),
        ("张三", "han_name"),
        ("柳如烟", "han_name"),
        ("张三CANARY", "han_name"),
        ("王医生 x8001", "han_name"),
        ("欧阳建国", "han_name"),
        ("Zhang San", "latin_name"),
        ("ZHANG San", "latin_name"),
        ("Liu Ruyan", "latin_name"),
        ("LIU^RUYAN", "latin_name"),
        ("wang_xiaoming", "latin_name"),
    ],
)
def test_patient_identifiers_are_refused_by_their_rule(guard: PhiGuard, value: str, rule: str) -> None:
    assert guard.check("label", value).rule == rule


@pytest.mark.parametrize(
    "value",
    [
        "internal-med",
        "STAT",
        "GigabitEthernet0/0/1",
        "uplink to core-sw-1",
        "172.16.100.20",
        "10.1.2.3:3306",
        "00:1a:2b:3c:4d:5e",
        "2024-03-07 10:15:00",
        "Huawei Versatile Routing Platform Software V200R019C10SPC500",
        "Machine room 1, rack A01",
        "急诊",
        "检验科",
        "门诊楼B1配线间",
        "住院楼五楼",
        "三病区",
        "核心交换机1",
        "ICU 5楼接入交换机",
        "Li-ion battery",
        "Fan Tray 2",
        "Power Supply 1",
        "SN2102350DJP10K8000123",
        "1700000000",
        "Copyright (c) 1986-2015 by Cisco Systems, Inc.",
        "in service 2010-2024",
        "vendor line +0086 12345",  # the country code alone: checked, never a crash
        "",
    ],
)
def test_what_a_device_or_a_query_rightly_exports_passes(guard: PhiGuard, value: str) -> None:
    assert guard.check("label", value).ok, guard.find(value)


def test_site_words_and_prefixes_come_from_config() -> None:
    default = PhiGuard()
    site = PhiGuard(PhiSettings(record_prefixes=["BLH"], allow_words=["方舱"]))
    assert default.check("ward", "方舱").rule == "han_name"  # 方 is a surname: refused until allowed
    assert site.check("ward", "方舱").ok
    assert default.check("sample", "BLH-20240815").ok
    assert site.check("sample", "BLH-20240815").rule == "record_number"


def test_every_canary_form_is_refused_and_redacted(guard: PhiGuard) -> None:
    for value in CANARY.planted():
        assert guard.redact("v", value) == REDACTED, value


SITE_MAIL = PhiSettings(allow_email_domains=["Hospital.Example"], allow_emails=["support@ups-vendor.example"])


@pytest.mark.parametrize(
    "value",
    [
        "noc@hospital.example",  # the machine room's role mailbox in every switch's sysContact
        "IT On-call <it-oncall@xiyuan.hospital.example>",  # the west campus' subdomain
        "mailto:noc@hospital.example",
        "Support: support@ups-vendor.example",  # the UPS vendor's service address, allowed by name
    ],
)
def test_the_sites_own_mailboxes_pass(value: str) -> None:
    assert PhiGuard(SITE_MAIL).check("sysContact", value).ok


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("patient123@qq.com", "email"),  # a patient's address is still refused
        ("sales@ups-vendor.example", "email"),  # the vendor allowed one mailbox, not its domain
        ("noc@hospital.example.attacker.cn", "email"),
        ("noc@myhospital.example", "email"),
        ("zhang.san@hospital.example", "latin_name"),  # a person's name stays a name at our domain too
        (f"noc@hospital.example {CANARY.phone_dashed}", "mobile_phone"),
    ],
)
def test_other_mailboxes_and_what_surrounds_ours_are_still_refused(value: str, rule: str) -> None:
    assert PhiGuard(SITE_MAIL).check("sysContact", value).rule == rule


def test_allowing_mailboxes_lets_no_canary_by() -> None:
    site = PhiGuard(SITE_MAIL)
    for value in CANARY.planted():
        assert site.redact("v", value) == REDACTED, value


@pytest.mark.parametrize(
    ("key", "value"), [("allow_email_domains", ["*.example"]), ("allow_emails", ["noc at hospital.example"])]
)
def test_malformed_mail_allow_lists_are_refused(key: str, value: list[str]) -> None:
    with pytest.raises(ConfigError, match="not mail"):
        validate(PhiSettings, {key: value}, "network.yml")


def test_free_text_keeps_its_words_and_loses_the_patient(guard: PhiGuard) -> None:
    text = f"critical value for {CANARY.name} ({CANARY.mrn}), call {CANARY.phone_dashed}; ward 5 notified"
    clean, rules = guard.redact_text(text, where="annotation summary")
    assert leaks(clean) == []
    assert clean.startswith("critical value for [redacted]")
    assert clean.endswith("; ward 5 notified")
    assert sorted(rules) == ["han_name", "mobile_phone", "record_number"]


def test_a_chinese_alert_summary_keeps_its_words_and_loses_the_patient(guard: PhiGuard) -> None:
    """The words a rule's `summary_zh` stands on pass; a patient's name a label brings in is still refused,
    also beside them: no single allowed character is a surname a name could start with."""
    words = {w for w in ALERT_WORDS if len(w) == 1}
    assert words and not words & HAN_SURNAMES
    clean, rules = guard.redact_text("core-sw-1 的端口 GE1/0/1（张三）已断开", where="annotations.summary_zh")
    assert clean == "core-sw-1 的端口 GE1/0/1（[redacted]）已断开" and rules == ["han_name"]
    assert guard.redact_text("刘的 已断开")[1] == ["han_name"]


def test_labels_are_redacted_one_by_one(guard: PhiGuard) -> None:
    clean, hits = guard.redact_labels({"ci": "his-db", "patient": CANARY.resident_id_spaced})
    assert clean == {"ci": "his-db", "patient": REDACTED}
    assert hits == [("patient", "resident_id")]


def test_refusals_are_counted_and_logged_by_rule_never_by_value(caplog: pytest.LogCaptureFixture) -> None:
    guard = PhiGuard()
    with caplog.at_level(logging.DEBUG, logger="hospmon.phi"):
        for _ in range(3):
            guard.check("sysContact", f"on call {CANARY.phone}")
        guard.check("sysLocation", f"on call {CANARY.phone}")
    assert guard.tally.get("mobile_phone") == 4  # every refusal counts
    # Logged once per label and rule, at no level after that: a scrape every 15 s must not flood the log.
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "value refused: label=sysContact rule=mobile_phone"),
        (logging.WARNING, "value refused: label=sysLocation rule=mobile_phone"),
    ]
    assert leaks(caplog.text) == []
    family = guard.tally.family("hospmon_test_refused", "Refused.")
    counts = {s.labels["rule"]: s.value for s in family.samples if s.name.endswith("_total")}
    assert counts["mobile_phone"] == 4
    assert counts["resident_id"] == 0  # every rule's series exists from the start


def test_the_test_only_switch_lets_everything_by(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phi, "_TEST_ONLY_DISABLED", True)
    assert PhiGuard().check("name", CANARY.name).ok


@pytest.mark.parametrize(
    "pattern",
    [
        ".*",
        ".+",
        ".{1,20}",
        "[a-z]+",
        "[a-z]{2,}",
        r"\w{1,10}",
        r"\S{1,8}",
        "[^,]{1,8}",
        "[一-龥]{2,4}",
        "(?:[a-z]|.){1,4}",
        "[a-z]{1,80}",
    ],
)
def test_patterns_that_admit_free_text_are_refused(pattern: str) -> None:
    assert pattern_problem(pattern) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        "[a-z][a-z0-9-]{0,31}",
        "[A-Z0-9][A-Z0-9-]{0,31}",
        "[A-Z]{2,16}",
        "(门诊|急诊|住院)",
        r"\d{1,4}",
        "ok|failed",
    ],
)
def test_bounded_enumerations_pass(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_label_names_that_denote_personal_data_are_refused() -> None:
    for name in ["patient_name", "pname", "mrn", "phone", "idn", "patient"]:
        assert label_name_problem(name) is not None, name
    for name in ["clinic", "clinic_type", "section", "priority", "telemetry_channel"]:
        assert label_name_problem(name) is None, name


def test_a_name_after_another_word_in_free_text_is_found(guard: PhiGuard) -> None:
    # The pair "about LIU" once consumed the surname, so the name itself went through.
    for text in (f"about {CANARY.name_dicom}", f"the sample of {CANARY.name_latin}"):
        clean, rules = guard.redact_text(text)
        assert leaks(clean) == [] and rules == ["latin_name"], text
    assert guard.redact_text("it will not carry the load through an outage")[1] == []


@pytest.mark.parametrize(
    "note",
    [
        "core switch fan replaced, see SR 2026-1187, 10.20.1.1 port 24",
        "已重启，正常。见工单 2025-0042",  # short clauses: Han runs a value would take for a name
        "he ran the failover script an hour ago; long ping times on vlan 20",  # pinyin-shaped English
        "HIS 数据库 2026-12-07 03:15:22 主备切换完成 5.7.44 → 5.7.45",
        "SN 2102351234567890 资产号 ZC-2024-00123 INC-20261207-0001 #1234 OID 1.3.6.1.4.1.2011.5.25",
        "患者排队 30 分钟；患者无法挂号，家属来电询问；床边 终端重启",  # patient words without a name
        "5楼 3床呼叫器不响，已更换",
    ],
)
def test_a_night_engineers_note_passes_as_free_text(guard: PhiGuard, note: str) -> None:
    assert guard.check_text("note", note).ok


@pytest.mark.parametrize(
    ("note", "rule"),
    [
        ("护士站留言：患者张三 MRN00012345", "han_name"),
        ("3床 李四 叫号屏不显示", "han_name"),
        (f"病人：{CANARY.name}，", "han_name"),
        (f"called back {CANARY.name_latin} at 03:10", "latin_name"),
        (f"HL7 PID {CANARY.name_dicom.lower()}", "latin_name"),
        ("ward called 13800138000", "mobile_phone"),
        ("电话 6512-3456 no answer", "landline_phone"),
        (f"see {CANARY.accession}", "record_number"),
        (f"ID {CANARY.resident_id_spaced}", "resident_id"),
    ],
)
def test_a_patient_in_free_text_is_refused_by_its_rule(guard: PhiGuard, note: str, rule: str) -> None:
    assert guard.check_text("note", note).rule == rule


def test_a_note_may_name_the_staff_called_but_no_one_else() -> None:
    guard = PhiGuard(staff=["Wang Lei", "Zhao Min"])
    assert guard.check_text("note", "called Zhao Min (DBA on call) at 03:20; Wang Lei on site").ok
    assert guard.check_text("note", f"called Zhao Min about {CANARY.name_latin}").rule == "latin_name"
    assert guard.check("label", "Zhao Min").rule == "latin_name"  # a label names no one, staff included
