"""The simulated HIS's traffic: the daily curve of a Chinese outpatient department and the registrations,
prescriptions, payments, insurance settlements and interface messages it writes.

Every patient here is made up; the generator writes names, record numbers, ID and phone numbers on purpose,
so the demo shows that none of them reaches Prometheus.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pymysql

SHANGHAI = ZoneInfo("Asia/Shanghai")
log = logging.getLogger("his-simulator")

# Relative outpatient load by Shanghai local hour on a working day (linear between points).
WORKDAY_CURVE = [
    (0.0, 0.0), (6.5, 0.0), (7.0, 0.35), (7.5, 0.8), (8.0, 1.0), (10.0, 0.9), (11.5, 0.45), (12.0, 0.1),
    (13.0, 0.05), (13.5, 0.55), (14.5, 0.7), (16.5, 0.4), (17.5, 0.15), (18.0, 0.0), (24.0, 0.0),
]  # fmt: skip
# Clinics close at 12:00 on Saturdays and 17:30 on working days; the last patients still register until then,
# so the demo does not raise HISRegistrationsStopped just before closing.
SATURDAY_CURVE = [(0.0, 0.0), (7.0, 0.2), (8.0, 0.6), (11.0, 0.4), (12.0, 0.2), (12.5, 0.0), (24.0, 0.0)]
EMERGENCY_CURVE = [(0.0, 0.3), (7.0, 0.4), (10.0, 1.0), (20.0, 0.8), (24.0, 0.3)]
PEAK_PER_HOUR = {"general": 60.0, "specialist": 30.0, "expert": 12.0, "emergency": 12.0}
CLINIC_HOURS = ((8.0, 12.0), (13.5, 17.5))


def _interpolate(curve: list[tuple[float, float]], hour: float) -> float:
    for (h0, v0), (h1, v1) in itertools.pairwise(curve):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0) if h1 > h0 else v1
    return 0.0


def registrations_per_hour(clinic_type: str, at: dt.datetime) -> float:
    """Return the expected registrations per hour of one clinic of `clinic_type` at `at` (any time zone)."""
    local = at.astimezone(SHANGHAI)
    hour = local.hour + local.minute / 60 + local.second / 3600
    if clinic_type == "emergency":
        return PEAK_PER_HOUR["emergency"] * _interpolate(EMERGENCY_CURVE, hour)
    weekday = local.isoweekday()
    if weekday <= 5:
        shape = _interpolate(WORKDAY_CURVE, hour)
    elif weekday == 6:
        shape = _interpolate(SATURDAY_CURVE, hour)
    else:
        shape = 0.1 * _interpolate(SATURDAY_CURVE, hour)
    return PEAK_PER_HOUR[clinic_type] * shape


def clinic_open(at: dt.datetime) -> bool:
    """Tell whether doctors see outpatients at `at` (Shanghai clinic hours, Monday to Saturday morning)."""
    local = at.astimezone(SHANGHAI)
    hour = local.hour + local.minute / 60
    if local.isoweekday() == 7:
        return False
    if local.isoweekday() == 6:
        return CLINIC_HOURS[0][0] <= hour < CLINIC_HOURS[0][1]
    return any(start <= hour < end for start, end in CLINIC_HOURS)


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def fake_patient(rng: random.Random, n: int) -> tuple[str, str, str, str, str]:
    """Return a made-up patient: MRN, name, 18-digit ID number, mobile number, insurance."""
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(30000))
    serial = f"{rng.randrange(1000):03d}{rng.choice('0123456789X')}"
    id_number = f"3101{rng.randrange(10, 99)}{born:%Y%m%d}{serial}"
    phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
    insurance = rng.choices(["employee", "resident", "self_pay"], [5, 4, 1])[0]
    return f"M{20260000 + n:08d}", name, id_number, phone, insurance


class Generator:
    """Writes the HIS's traffic: one tick a second, future events in a heap."""

    def __init__(self, connect: Callable[[], Any], seed: int | None = None) -> None:
        self.connect = connect
        self.rng = random.Random(seed)  # noqa: S311 - simulated traffic, not secrets
        self.conn: Any = None
        self.events: list[tuple[float, int, Callable[[Any], None]]] = []
        self.ids = itertools.count()
        self.clinics: list[tuple[str, str]] = []
        self.patients = 0
        self.outage_until = 0.0
        self.stalled = ""
        self.stalled_until = 0.0
        self.stop_event = threading.Event()
        self.ticks = 0

    def later(self, seconds: float, action: Callable[[Any], None]) -> None:
        """Run `action(cursor)` in `seconds`."""
        heapq.heappush(self.events, (time.monotonic() + seconds, next(self.ids), action))

    def _cursor(self) -> Any:
        if self.conn is None:
            self.conn = self.connect()
            self.conn.select_db("his")
            with self.conn.cursor() as cur:
                cur.execute("SELECT clinic_code, clinic_type FROM clinic ORDER BY clinic_code")
                self.clinics = list(cur.fetchall())
                cur.execute("SELECT COUNT(*) FROM patient")
                self.patients = int(cur.fetchone()[0])
                if self.patients < 300:
                    rows = [fake_patient(self.rng, n) for n in range(self.patients, 300)]
                    cur.executemany(
                        "INSERT INTO patient (mrn, name, id_number, phone, insurance)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        rows,
                    )
                    self.patients = 300
        return self.conn.cursor()

    def run(self) -> None:
        """Backfill the last 30 minutes, then tick every second until stopped; survive database outages."""
        backfilled = False
        while not self.stop_event.is_set():
            try:
                with self._cursor() as cur:
                    if not backfilled:
                        self.backfill(cur, 1800)
                        backfilled = True
                    self.tick(cur, dt.datetime.now(dt.UTC), 1.0)
                self.ticks += 1
            except pymysql.err.MySQLError as exc:
                log.warning("database error: %s", exc)
                with contextlib.suppress(Exception):
                    self.conn.close()
                self.conn = None
            self.stop_event.wait(1.0)

    def _register(self, cur: Any, clinic: str, ago: float) -> int:
        patient = self.rng.randrange(1, self.patients + 1)
        cur.execute(
            "INSERT INTO registration (patient_id, clinic_code, registered_at, status) "
            "VALUES (%s, %s, NOW(3) - INTERVAL %s MICROSECOND, 'waiting')",
            (patient, clinic, int(ago * 1e6)),
        )
        reg_id = int(cur.lastrowid)
        self._message(cur, "emr-sync", ago)
        self._bill(cur, reg_id, ago)
        return reg_id

    def backfill(self, cur: Any, seconds: int) -> None:
        """Write the registrations of the last `seconds` as if the simulator had been running."""
        now = dt.datetime.now(dt.UTC)
        for ago in range(seconds, 0, -5):
            at = now - dt.timedelta(seconds=ago)
            for clinic, kind in self.clinics:
                if self.rng.random() < registrations_per_hour(kind, at) * 5 / 3600:
                    self._register(cur, clinic, ago)
        # Most of the backfilled queue has been seen already.
        cur.execute(
            "UPDATE registration SET status = 'finished', called_at = registered_at + INTERVAL 4 MINUTE "
            "WHERE status = 'waiting' AND registered_at < NOW() - INTERVAL 10 MINUTE"
        )

    def tick(self, cur: Any, now: dt.datetime, seconds: float) -> None:
        """Advance the hospital by `seconds`: arrivals, calls, visits ending, and due events."""
        is_open = clinic_open(now)
        for clinic, kind in self.clinics:
            if self.rng.random() < registrations_per_hour(kind, now) * seconds / 3600:
                self._register(cur, clinic, 0.0)
            # Doctors call a little slower than the peak arrival rate, so queues grow in the morning.
            service = 1.0 if kind == "emergency" or is_open else 0.0
            per_second = max(registrations_per_hour(kind, now), 4.0) * 0.9 / 3600 * service
            if not is_open and kind != "emergency":
                per_second = 0.05  # after hours the remaining queue is cleared
            if self.rng.random() < per_second * seconds:
                cur.execute(
                    "UPDATE registration SET status = 'called', called_at = NOW(3) "
                    "WHERE clinic_code = %s AND status = 'waiting' ORDER BY registered_at LIMIT 1",
                    (clinic,),
                )
        cur.execute(
            "SELECT reg_id, clinic_code FROM registration WHERE status = 'called' "
            "AND called_at < NOW(3) - INTERVAL 4 MINUTE LIMIT 50"
        )
        for reg_id, clinic in cur.fetchall():
            cur.execute("UPDATE registration SET status = 'finished' WHERE reg_id = %s", (reg_id,))
            if self.rng.random() < 0.7:
                self._prescribe(cur, int(reg_id), clinic)
            if self.rng.random() < 0.3:
                self._message(cur, "lis-orders", 0.0)
            if self.rng.random() < 0.1:
                self._message(cur, "pacs-orders", 0.0)
        if self.outage_until < time.monotonic() and self.rng.random() < seconds / 10800:
            self.outage_until = time.monotonic() + self.rng.uniform(120, 420)
            log.info("insurance front-end processor trouble for a few minutes")
        if self.stalled_until < time.monotonic() and self.rng.random() < seconds / 14400:
            self.stalled = self.rng.choice(["lis-orders", "pacs-orders", "emr-sync", "insurance-upload"])
            self.stalled_until = time.monotonic() + self.rng.uniform(600, 1200)
            log.info("interface channel %s stalls for a while", self.stalled)
        stalled = self.stalled if self.stalled_until > time.monotonic() else ""
        # The integration platform delivers what waits, except on a stalled channel.
        cur.execute(
            "UPDATE interface_message SET status = 'sent', sent_at = NOW(3) WHERE status = 'pending' "
            "AND created_at < NOW(3) - INTERVAL 2 SECOND AND channel <> %s",
            (stalled,),
        )
        while self.events and self.events[0][0] <= time.monotonic():
            _, _, action = heapq.heappop(self.events)
            action(cur)
        # Events lost while the database was down end as they would: unanswered settlements time out,
        # the pharmacy catches up.
        cur.execute(
            "UPDATE insurance_settlement SET status = 'failed', responded_at = NOW(3), "
            "error_code = 'FEP-TIMEOUT' "
            "WHERE status = 'pending' AND requested_at < NOW(3) - INTERVAL 60 SECOND"
        )
        cur.execute(
            "UPDATE prescription SET status = 'dispensed', dispensed_at = NOW(3) "
            "WHERE status = 'paid' AND paid_at < NOW(3) - INTERVAL 15 MINUTE"
        )

    def _prescribe(self, cur: Any, reg_id: int, clinic: str) -> None:
        pharmacy = "emergency" if clinic == "emergency" else self.rng.choice(["op-western"] * 4 + ["op-tcm"])
        cur.execute(
            "INSERT INTO prescription (reg_id, pharmacy_code, created_at, status) "
            "VALUES (%s, %s, NOW(3), 'prescribed')",
            (reg_id, pharmacy),
        )
        rx_id = int(cur.lastrowid)

        def pay(c: Any) -> None:
            if self._bill(c, reg_id, 0.0):
                c.execute(
                    "UPDATE prescription SET status = 'paid', paid_at = NOW(3) WHERE rx_id = %s", (rx_id,)
                )
                self.later(self.rng.uniform(60, 480), dispense)
            else:
                self.later(self.rng.uniform(20, 60), pay)  # the patient tries again

        def dispense(c: Any) -> None:
            c.execute(
                "UPDATE prescription SET status = 'dispensed', dispensed_at = NOW(3) WHERE rx_id = %s",
                (rx_id,),
            )

        self.later(self.rng.uniform(30, 240), pay)
        self._message(cur, "insurance-upload", 0.0)

    def _bill(self, cur: Any, reg_id: int, ago: float) -> bool:
        ok = self.rng.random() >= 0.01
        cur.execute(
            "INSERT INTO billing (reg_id, created_at, amount, channel, status, error_code) "
            "VALUES (%s, NOW(3) - INTERVAL %s MICROSECOND, %s, %s, %s, %s)",
            (reg_id, int(ago * 1e6), round(self.rng.uniform(5, 400), 2),
             self.rng.choice(["window", "kiosk", "mobile", "mobile"]),
             "ok" if ok else "failed", None if ok else self.rng.choice(["E-POS-TIMEOUT", "E-BALANCE"])),
        )  # fmt: skip
        if ok and self.rng.random() < 0.85:
            self._settle(cur, int(cur.lastrowid), ago)
        return ok

    def _settle(self, cur: Any, bill_id: int, ago: float) -> None:
        outage = self.outage_until > time.monotonic()
        failed = self.rng.random() < (0.8 if outage else 0.03)
        latency = self.rng.uniform(6, 15) if outage else self.rng.lognormvariate(-0.5, 0.5)
        if ago > latency:
            cur.execute(
                "INSERT INTO insurance_settlement (bill_id, requested_at, responded_at, status, error_code) "
                "VALUES (%s, NOW(3) - INTERVAL %s MICROSECOND, NOW(3) - INTERVAL %s MICROSECOND, %s, %s)",
                (bill_id, int(ago * 1e6), int((ago - latency) * 1e6), "failed" if failed else "success",
                 "FEP-TIMEOUT" if failed else None),
            )  # fmt: skip
            return
        cur.execute(
            "INSERT INTO insurance_settlement (bill_id, requested_at, status) VALUES (%s, NOW(3), 'pending')",
            (bill_id,),
        )
        settle_id = int(cur.lastrowid)

        def answer(c: Any) -> None:
            c.execute(
                "UPDATE insurance_settlement SET responded_at = NOW(3), status = %s, error_code = %s "
                "WHERE settle_id = %s",
                ("failed" if failed else "success", "FEP-TIMEOUT" if failed else None, settle_id),
            )

        self.later(latency, answer)

    def _message(self, cur: Any, channel: str, ago: float) -> None:
        cur.execute(
            "INSERT INTO interface_message (channel, created_at, status, payload) "
            "VALUES (%s, NOW(3) - INTERVAL %s MICROSECOND, %s, %s)",
            (channel, int(ago * 1e6), "sent" if ago > 5 else "pending", "MSH|^~\\&|HIS|DEMO|..."),
        )
