"""Devices net-snmp does not implement (UPS, entity sensors, Huawei and H3C boards), served by snmpd
``override`` lines with known values so that tests can check every scaled value exactly."""

from __future__ import annotations

UPS = "1.3.6.1.2.1.33.1"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
HUAWEI = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
H3C = "1.3.6.1.4.1.25506.2.6.1.1.1.1"
HUAWEI_INDEX = 16842753
H3C_INDEX = 30

# (OID, snmpd override type, value)
VALUES: list[tuple[str, str, str]] = [
    (f"{UPS}.2.1.0", "integer", "2"),  # upsBatteryStatus batteryNormal
    (f"{UPS}.2.2.0", "integer", "0"),  # upsSecondsOnBattery
    (f"{UPS}.2.3.0", "integer", "42"),  # upsEstimatedMinutesRemaining
    (f"{UPS}.2.4.0", "integer", "97"),  # upsEstimatedChargeRemaining
    (f"{UPS}.2.5.0", "integer", "545"),  # upsBatteryVoltage, 0.1 V
    (f"{UPS}.2.7.0", "integer", "27"),  # upsBatteryTemperature
    (f"{UPS}.3.3.1.2.1", "integer", "500"),  # upsInputFrequency, 0.1 Hz
    (f"{UPS}.3.3.1.3.1", "integer", "221"),  # upsInputVoltage
    (f"{UPS}.4.1.0", "integer", "5"),  # upsOutputSource battery
    (f"{UPS}.4.4.1.2.1", "integer", "220"),  # upsOutputVoltage
    (f"{UPS}.4.4.1.3.1", "integer", "123"),  # upsOutputCurrent, 0.1 A
    (f"{UPS}.4.4.1.4.1", "integer", "2400"),  # upsOutputPower
    (f"{UPS}.4.4.1.5.1", "integer", "37"),  # upsOutputPercentLoad
    (f"{UPS}.6.1.0", "uinteger", "1"),  # upsAlarmsPresent
    (f"{UPS}.6.2.1.2.1", "object_id", "1.3.6.1.2.1.33.1.6.3.1"),  # upsAlarmDescr batteryBad
    (f"{SENSOR}.1.10", "integer", "8"),  # celsius
    (f"{SENSOR}.1.11", "integer", "4"),  # voltsDC
    (f"{SENSOR}.1.12", "integer", "10"),  # rpm
    (f"{SENSOR}.1.13", "integer", "9"),  # percentRH
    (f"{SENSOR}.2.13", "integer", "9"),
    (f"{SENSOR}.3.13", "integer", "1"),
    (f"{SENSOR}.4.13", "integer", "455"),  # 45.5 %RH
    (f"{SENSOR}.5.13", "integer", "1"),
    (f"{ENT_NAME}.13", "octet_str", '"Room humidity"'),
    (f"{SENSOR}.2.10", "integer", "9"),  # units
    (f"{SENSOR}.2.11", "integer", "8"),  # milli
    (f"{SENSOR}.2.12", "integer", "9"),
    (f"{SENSOR}.3.10", "integer", "1"),  # one decimal
    (f"{SENSOR}.3.11", "integer", "0"),
    (f"{SENSOR}.3.12", "integer", "0"),
    (f"{SENSOR}.4.10", "integer", "235"),  # 23.5 degrees
    (f"{SENSOR}.4.11", "integer", "12050"),  # 12.05 V
    (f"{SENSOR}.4.12", "integer", "5400"),  # 5400 rpm
    (f"{SENSOR}.5.10", "integer", "1"),
    (f"{SENSOR}.5.11", "integer", "1"),
    (f"{SENSOR}.5.12", "integer", "3"),  # fan nonoperational
    (f"{ENT_NAME}.10", "octet_str", '"CPU temp"'),
    (f"{ENT_NAME}.11", "octet_str", '"PSU 12V"'),
    (f"{ENT_NAME}.12", "octet_str", '"Fan 1"'),
    (f"{ENT_NAME}.{H3C_INDEX}", "octet_str", '"Board 1"'),
    (f"{ENT_NAME}.{HUAWEI_INDEX}", "octet_str", '"MPU Board 0"'),
    (f"{HUAWEI}.5.{HUAWEI_INDEX}", "integer", "23"),
    (f"{HUAWEI}.7.{HUAWEI_INDEX}", "integer", "61"),
    (f"{HUAWEI}.11.{HUAWEI_INDEX}", "integer", "41"),
    (f"{H3C}.6.{H3C_INDEX}", "integer", "16"),
    (f"{H3C}.8.{H3C_INDEX}", "integer", "58"),
    (f"{H3C}.12.{H3C_INDEX}", "integer", "45"),
]


def override_lines() -> list[str]:
    """Return the snmpd.conf lines serving `VALUES`."""
    return [f"override {oid} {kind} {value}" for oid, kind, value in VALUES]
