"""Priority tables: department x hour x type of day, blast radius, explanations; on-call rotations."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from alertrouter.policy.calendar import DayType
from alertrouter.policy.load import load_policy
from alertrouter.policy.oncall import gaps_ahead, on_call
from alertrouter.policy.priority import Assessor
from hospmon.config import ConfigError
from hospmon.inventory import Inventory, load_inventory
from hospmon.reasons import NETWORK_REASONS

REPO = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
POLICY = REPO / "rules" / "routing" / "policy.yml"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(REPO / "demo" / "inventory")


@pytest.fixture(scope="module")
def assessor(inventory: Inventory) -> Assessor:
    policy, calendar = load_policy(POLICY, inventory)
    return Assessor(inventory, policy, calendar)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


# ins-fep serves only billing, outpatient and the outpatient pharmacy: all keep hours.
@pytest.mark.parametrize(
    ("when", "day", "priority"),
    [
        ("2026-11-30 09:00", DayType.working, "P2"),  # Monday morning: clinics open
        ("2026-11-30 07:29", DayType.working, "P3"),  # before the registration peak
        ("2026-11-30 07:30", DayType.working, "P2"),
        ("2026-11-30 12:40", DayType.working, "P2"),  # billing works through lunch
        ("2026-11-30 21:00", DayType.working, "P3"),  # evening: closed
        ("2026-11-28 09:00", DayType.weekend, "P2"),  # Saturday morning clinic
        ("2026-11-28 15:00", DayType.weekend, "P3"),  # Saturday afternoon: closed
        ("2026-11-29 09:00", DayType.weekend, "P3"),  # Sunday
        ("2026-10-01 09:00", DayType.holiday, "P3"),  # National Day
        ("2026-10-10 09:00", DayType.adjusted, "P2"),  # Saturday worked for National Day
        ("2026-09-20 10:00", DayType.adjusted, "P2"),  # Sunday worked
        ("2026-02-17 10:00", DayType.holiday, "P3"),  # Spring Festival, a Tuesday
        ("2026-02-21 09:00", DayType.holiday, "P3"),  # a Saturday inside the break: no Saturday clinic
        ("2026-02-28 09:00", DayType.adjusted, "P2"),  # the Saturday worked for it
    ],
)
def test_outpatient_impact_follows_hours_and_calendar(
    assessor: Assessor, when: str, day: DayType, priority: str
) -> None:
    moment = at(when)
    assert assessor.calendar.day_type(moment.date()) is day
    decision = assessor.assess(ci="ins-fep", severity="critical", at=moment)
    assert decision.priority == priority, decision.explanation
    assert decision.explanation.startswith(f"{priority}: ")
    assert f"{moment:%H:%M} on " in decision.explanation


@pytest.mark.parametrize("when", ["2026-11-30 09:00", "2026-11-29 03:10", "2026-10-01 03:10"])
def test_critical_departments_never_close(assessor: Assessor, when: str) -> None:
    decision = assessor.assess(ci="core-sw-1", severity="critical", at=at(when))
    assert decision.priority == "P1"
    assert decision.departments[0] == "ed"


def test_explanation_names_department_path_severity_and_moment(assessor: Assessor) -> None:
    decision = assessor.assess(ci="ups-mr1-01", severity="critical", at=at("2026-10-01 03:10"))
    assert decision.explanation.startswith(
        "P1: Emergency Department depends on ups-mr1-01 through san-1, db-his-node1 (db-his-node1 is shared"
        " infrastructure of Hospital Information System (HIS)); severity critical"
    )
    assert decision.explanation.endswith("03:10 on a holiday (National Day)") or "03:10 on a holiday" in (
        decision.explanation
    )


# Who depends on a CI, by each path, at moments a night-shift engineer would recognise.
@pytest.mark.parametrize(
    ("ci", "severity", "when", "priority", "departments", "reason"),
    [
        # Own department: the ICU never closes; nobody else hangs off its floor switch.
        ("acc-sw-icu-5f", "critical", "2026-10-14 03:00", "P1", ["icu"],
         "P1: Intensive Care Unit depends on acc-sw-icu-5f (its own department)"),
        # Own department, closed: an outpatient floor switch on a Sunday night is not the ED's.
        ("acc-sw-op-2f", "warning", "2026-10-18 22:00", "P4", ["outpatient"],
         "P4: Outpatient Clinics depends on acc-sw-op-2f (its own department)"),
        ("acc-sw-op-2f", "critical", "2026-10-19 09:00", "P2", ["outpatient"],
         "P2: Outpatient Clinics depends on acc-sw-op-2f (its own department)"),
        # A dependent CI's own department: the ED's floor switch hangs off the outpatient building's switch.
        ("agg-sw-outpatient", "critical", "2026-10-18 22:00", "P1", ["ed", "outpatient"],
         "P1: Emergency Department depends on agg-sw-outpatient through acc-sw-ed-1f (acc-sw-ed-1f's own"),
        # Shared infrastructure: the core switch carries the network for every department.
        ("core-sw-2", "warning", "2026-10-18 22:00", "P1", None,
         "P1: Emergency Department depends on core-sw-2 (core-sw-2 is shared infrastructure of Hospital"),
        # Shared although it sits in the lab (shared: true): the LIS database serves the ED's results too.
        ("lis-db", "critical", "2026-10-18 22:00", "P1", None,
         "P1: Emergency Department depends on lis-db (lis-db is shared infrastructure of Laboratory"),
        # A modality serves its own department only.
        ("ct-1", "critical", "2026-10-18 22:00", "P1", ["radiology"],
         "P1: Radiology depends on ct-1 (its own department)"),
    ],
)  # fmt: skip
def test_priority_follows_who_depends_on_the_ci(
    assessor: Assessor,
    ci: str,
    severity: str,
    when: str,
    priority: str,
    departments: list[str] | None,
    reason: str,
) -> None:
    decision = assessor.assess(ci=ci, severity=severity, at=at(when))
    assert decision.priority == priority, decision.explanation
    assert decision.explanation.startswith(reason), decision.explanation
    if departments is not None:
        assert list(decision.departments) == departments


def test_blast_radius_raises_a_warning(assessor: Assessor) -> None:
    wide = assessor.assess(ci="core-sw-1", severity="warning", at=at("2026-11-30 09:00"))
    assert wide.priority == "P1"
    assert "(raised 1)" in wide.explanation
    narrow = assessor.assess(ci="acc-sw-icu-5f", severity="warning", at=at("2026-11-30 09:00"))
    assert narrow.priority == "P2"


def test_tier_lowers_and_unknown_ci_and_severity(assessor: Assessor) -> None:
    mon = assessor.assess(ci="env-mr1", severity="critical", at=at("2026-11-30 09:00"))
    assert "tier 1" in mon.explanation
    unknown = assessor.assess(ci="printer-7", severity="critical", at=at("2026-11-30 09:00"))
    assert unknown.priority == "P3" and "printer-7 is not in the inventory" in unknown.explanation
    odd = assessor.assess(ci="his-web", severity="disaster", at=at("2026-11-30 09:00"))
    assert "severity warning" in odd.explanation and odd.priority == "P3"  # warning x open clinics


def test_local_calendar_wins(tmp_path: Path, inventory: Inventory) -> None:
    (tmp_path / "cal.yml").write_text(
        "holidays: {2026-11-30: hospital anniversary}\nworking_days: {2026-11-29: staff day}\n"
    )
    data = yaml.safe_load(POLICY.read_text())
    data["calendar"] = {"country": "CN", "files": ["cal.yml"]}
    (tmp_path / "policy.yml").write_text(yaml.safe_dump(data))
    policy, calendar = load_policy(tmp_path / "policy.yml", inventory)
    local = Assessor(inventory, policy, calendar)
    assert local.assess(ci="ins-fep", severity="critical", at=at("2026-11-30 09:00")).priority == "P3"
    sunday = local.assess(ci="ins-fep", severity="critical", at=at("2026-11-29 09:00"))
    assert sunday.priority == "P2" and "an adjusted working day" in sunday.explanation


def test_weekends_inside_a_break_are_holidays_unless_the_policy_says_otherwise(
    tmp_path: Path, inventory: Inventory, assessor: Assessor
) -> None:
    saturday = dt.date(2026, 2, 21)
    assert assessor.calendar.holiday_name(saturday) == "Chinese New Year (Spring Festival)"
    assert assessor.calendar.day_type(dt.date(2026, 10, 4)) is DayType.holiday  # National Day's Sunday
    assert assessor.calendar.day_type(dt.date(2026, 11, 28)) is DayType.weekend  # no holiday near
    data = yaml.safe_load(POLICY.read_text())
    data["calendar"] = {"country": "CN", "weekends_join_holidays": False}
    (tmp_path / "policy.yml").write_text(yaml.safe_dump(data))
    _, calendar = load_policy(tmp_path / "policy.yml", inventory)
    assert calendar.day_type(saturday) is DayType.weekend


def test_policy_faults_name_file_entry_and_key(tmp_path: Path, inventory: Inventory) -> None:
    data = yaml.safe_load(POLICY.read_text())
    data["matrix"]["critical"].pop("low")
    data["overrides"] = [
        {
            "team": "nobody",
            "person": "x",
            "start": "2026-12-01T08:00:00+08:00",
            "end": "2026-12-02T08:00:00+08:00",
        }
    ]
    data["colour"] = "red"
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_policy(path, inventory)
    text = str(err.value)
    assert f"{path}: matrix: " in text and "severity critical: add low" in text
    assert f"{path}: colour: unknown key" in text
    data["matrix"]["critical"]["low"] = "P3"
    del data["colour"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"overrides\[0\]: team: unknown team 'nobody'"):
        load_policy(path, inventory)


def test_an_unknown_probe_reason_is_refused_with_the_known_ones(tmp_path: Path, inventory: Inventory) -> None:
    data = yaml.safe_load(POLICY.read_text())
    data["reachability_reasons"] = ["timeout", "refused"]
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_policy(path, inventory)
    assert f"{path}: reachability_reasons: " in str(err.value)
    assert "unknown probe reason(s) 'refused': use some of auth, bad_response, " in str(err.value)
    # The rules fold timeout into `failure="network"`: listing it there would never match.
    data["reachability_reasons"] = ["timeout"]
    data["reachability_failures"] = ["network", "timeout"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_policy(path, inventory)
    assert f"{path}: reachability_failures: " in str(err.value)
    assert "unknown failure(s) 'timeout': use some of auth, " in str(err.value)
    assert "fold timeout and unreachable into network" in str(err.value)


def test_a_floor_above_the_cap_is_refused_naming_the_alert(tmp_path: Path, inventory: Inventory) -> None:
    data = yaml.safe_load(POLICY.read_text())
    data["alerts"]["ExporterDown"] = {"min_priority": "P1", "max_priority": "P3"}
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_policy(path, inventory)
    assert f"{path}: alerts: ExporterDown" in str(err.value)
    assert "min_priority P1 is above max_priority P3" in str(err.value)


def test_an_unknown_calendar_country_is_refused_by_name(tmp_path: Path, inventory: Inventory) -> None:
    data = yaml.safe_load(POLICY.read_text())
    data["calendar"]["country"] = "XX"
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"calendar: country: unknown country 'XX'"):
        load_policy(path, inventory)


@pytest.mark.parametrize(
    ("team", "when", "person"),
    [
        ("network", "2026-01-05 08:29", None),
        ("network", "2026-01-05 08:30", "li.qiang"),
        ("network", "2026-01-12 08:29", "li.qiang"),
        ("network", "2026-01-12 08:30", "zhao.min"),
        ("network", "2026-01-26 09:00", "li.qiang"),
        ("apps", "2026-01-06 07:59", "xu.fang"),
        ("apps", "2026-01-06 08:00", "ma.chao"),
        ("apps", "2026-01-08 08:00", "xu.fang"),
    ],
)
def test_rotation(inventory: Inventory, assessor: Assessor, team: str, when: str, person: str | None) -> None:
    assert on_call(inventory, assessor.policy, team, at(when)).person == person


def test_overrides_absences_and_gaps_ahead(inventory: Inventory, tmp_path: Path) -> None:
    data = yaml.safe_load(POLICY.read_text())
    data["overrides"] = [
        {
            "team": "network",
            "person": "wang.lei",
            "start": "2026-12-01T08:30:00+08:00",
            "end": "2026-12-02T08:30:00+08:00",
        }
    ]
    data["absences"] = [
        {"person": "wu.tao", "start": "2026-12-08T00:00:00+08:00", "end": "2026-12-10T00:00:00+08:00"}
    ]
    (tmp_path / "policy.yml").write_text(yaml.safe_dump(data))
    (tmp_path / "calendar.yml").write_text("{}\n")
    policy, _ = load_policy(tmp_path / "policy.yml", inventory)
    assert on_call(inventory, policy, "network", at("2026-12-01 12:00")).person == "wang.lei"
    away = on_call(inventory, policy, "dba", at("2026-12-08 12:00"))
    assert away.person is None and "wu.tao is absent" in away.reason
    assert gaps_ahead(inventory, policy, at("2026-11-30 10:00"), dt.timedelta(days=7)) == {}
    gaps = gaps_ahead(inventory, policy, at("2026-11-30 10:00"), dt.timedelta(days=9))
    assert gaps == {"dba": at("2026-12-08 00:00").astimezone(dt.UTC)}


def test_alerts_that_are_not_outages_are_capped_and_not_raised(assessor: Assessor) -> None:
    expired = assessor.assess(
        ci="core-sw-1", severity="critical", at=at("2026-10-01 03:10"), alertname="CIWarrantyExpired"
    )
    assert expired.priority == "P4"
    assert expired.explanation.endswith("; capped at P4 for CIWarrantyExpired")
    restarted = assessor.assess(
        ci="core-sw-1", severity="warning", at=at("2026-11-30 09:00"), alertname="DeviceRestarted"
    )
    assert restarted.priority == "P3" and "(raised" not in restarted.explanation
    assert not assessor.is_outage("CIWarrantyExpired") and assessor.is_outage("SwitchDown")
    # Grouping is a separate class: only what a failure upstream explains, and nothing the policy omits.
    assert assessor.is_reachability("CIProbeFailed", {}) and assessor.is_reachability(
        "MonitoringTargetDown", {}
    )
    assert not assessor.is_reachability("TemperatureHigh", {}) and not assessor.is_reachability(
        "SwitchDown", {}
    )
    # A probe alert's `failure` decides, even over a `reason` another rule might keep beside it.
    assert assessor.is_reachability("ClinicalWebDown", {"failure": "network", "reason": "auth"})
    assert not assessor.is_reachability("ClinicalWebDown", {"failure": "auth", "reason": "timeout"})


def test_probe_alerts_of_the_reachability_class_keep_the_probe_reason() -> None:
    # The router tells a refused password from an unreachable database by the alert's `reason` or `failure`:
    # a rule of the class that aggregated both away would let an auth failure join a network outage again,
    # and one folding other reasons than hospmon.reasons.NETWORK_REASONS into `network` would too.
    reachability = set(yaml.safe_load(POLICY.read_text())["reachability"])
    fold = f'"failure", "network", "reason", "{"|".join(sorted(NETWORK_REASONS))}"'
    kept = {}
    for path in (REPO / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") in reachability and "hospmon_probe_failure" in rule["expr"]:
                    expr = rule["expr"]
                    by = re.search(r"by \(([^)]*)\)", expr)
                    kept_by = set(by.group(1).replace(" ", "").split(",")) if by else set()
                    folded = fold in expr and ("failure" in kept_by or "without (reason)" in expr)
                    kept[rule["alert"]] = "reason" in kept_by or folded
    assert len(kept) >= 7 and all(kept.values()), kept
    assert {"CIProbeFailed", "ClinicalWebDown", "DatabaseDown"} <= kept.keys()


def test_policy_names_only_alerts_our_rules_raise() -> None:
    names = {
        rule["alert"]
        for path in (REPO / "rules").glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    # The event receiver's alerts: its rules' and the one it raises for an unknown sender.
    from exporters.events.receiver import UNKNOWN_SENDER
    from exporters.events.ruleload import load_rules

    names |= {rule.alert for rule in load_rules([REPO / "rules" / "events"]).rules} | {UNKNOWN_SENDER}
    policy = yaml.safe_load(POLICY.read_text())
    listed = set(policy["alerts"]) | set(policy["reachability"])
    assert listed <= names, listed - names
