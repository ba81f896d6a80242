"""The demo LIS database: its schema, the sections, interfaces and analyzers, and samples flowing.

Every identifier is synthetic (``SYN...``); nothing here is a patient.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

LIS_SCHEMA = Path(__file__).with_name("schema.sql")
# code, name, name_zh, opens, closes, weekdays (MariaDB WEEKDAY digits, 0 = Monday)
SECTIONS = [
    ("EMERG", "Emergency laboratory", "急诊检验", None, None, "0123456"),
    ("CHEM", "Clinical chemistry", "生化", None, None, "0123456"),
    ("HEMA", "Haematology", "临检", None, None, "0123456"),
    ("IMMU", "Immunology", "免疫", "08:00", "17:30", "012345"),
    ("MICRO", "Microbiology", "微生物", "08:00", "17:30", "012345"),
]
INTERFACES = [
    ("HIS-ORDERS", "Orders from the HIS (ORM^O01)", "HL7-MLLP"),
    ("LIS-RESULTS", "Verified results to the HIS and EMR (ORU^R01)", "HL7-MLLP"),
    ("AU5800-LINK", "Chemistry line", "ASTM"),
    ("XN-LINK", "Haematology analyzers", "HL7-MLLP"),
    ("COBAS-LINK", "Immunology analyzers", "HL7-MLLP"),
    ("VITEK-LINK", "Microbiology analyzers", "ASTM"),
]
ANALYZERS = [
    ("CHEM-AU5800-1", "CHEM", "Beckman Coulter AU5800", "AU5800-LINK"),
    ("HEMA-XN-1", "HEMA", "Sysmex XN-1000", "XN-LINK"),
    ("EMERG-XN-2", "EMERG", "Sysmex XN-550", "XN-LINK"),
    ("IMMU-E801-1", "IMMU", "Roche cobas e 801", "COBAS-LINK"),
    ("MICRO-VITEK-1", "MICRO", "bioMérieux VITEK 2", "VITEK-LINK"),
]
TESTS = {"EMERG": "CBC", "CHEM": "BMP", "HEMA": "CBC", "IMMU": "TNI", "MICRO": "BCX"}


def lis_statements() -> list[str]:
    """Return the demo LIS schema's statements."""
    text = "\n".join(line.split("--")[0] for line in LIS_SCHEMA.read_text(encoding="utf-8").splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


def seed_reference(cursor: Any) -> None:
    """Insert the demo laboratory's sections, interfaces and analyzers."""
    cursor.executemany("INSERT INTO lab_section VALUES (%s, %s, %s, %s, %s, %s)", SECTIONS)
    cursor.executemany("INSERT INTO interface VALUES (%s, %s, %s)", INTERFACES)
    cursor.executemany("INSERT INTO analyzer VALUES (%s, %s, %s, %s)", ANALYZERS)


class LisFlow:
    """Orders and results flowing through the demo LIS: each step ages the samples by real time.

    A sample is ordered, received in the lab a few minutes later, resulted by its section's analyzer and
    verified; STAT samples move faster. Some results raise critical values, notified within minutes.
    Every identifier is synthetic (``SYN...``).
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    def _sample(self) -> tuple[str, str]:
        self.serial += 1
        return f"SYN{self.serial:09d}", f"SYNP{self.rng.randrange(10**6):06d}"

    def seed(self, cursor: Any, hours: float = 2.0) -> None:
        """Fill the past `hours` with finished samples, so turnaround histograms have data at once."""
        for _ in range(int(hours * 60)):
            ago = self.rng.uniform(600, hours * 3600)
            self._order(cursor, ago)

    def _order(self, cursor: Any, ago: float) -> None:
        """Insert one sample ordered `ago` seconds back, with every step that has happened since."""
        section = self.rng.choice([s[0] for s in SECTIONS])
        priority = "STAT" if section == "EMERG" or self.rng.random() < 0.2 else "ROUTINE"
        fast = priority == "STAT"
        analyzer = next(a[0] for a in ANALYZERS if a[1] == section)
        steps = [self.rng.uniform(120, 600)]  # to the lab
        steps.append(self.rng.uniform(300, 1200) if fast else self.rng.uniform(900, 3600))  # analysis
        steps.append(self.rng.uniform(60, 300) if fast else self.rng.uniform(300, 1800))  # verification
        times: list[float | None] = []
        at = ago
        for step in steps:
            at -= step
            times.append(at if at > 0 else None)
        received, resulted, verified = times
        status = "verified" if verified else "resulted" if resulted else "received" if received else "ordered"
        sample, patient = self._sample()

        def when(seconds: float | None) -> int | None:
            return None if seconds is None else int(seconds)  # NOW() - INTERVAL NULL SECOND is NULL

        ago_ = "NOW() - INTERVAL %s SECOND"
        stamps = (when(ago), when(received), when(resulted), when(verified))
        cursor.execute(
            "INSERT INTO lab_order (sample_no, patient_id, section, priority, test_code, analyzer, status,"
            " ordered_at, received_at, resulted_at, verified_at) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " NOW() - INTERVAL %s SECOND, NOW() - INTERVAL %s SECOND, NOW() - INTERVAL %s SECOND,"
            " NOW() - INTERVAL %s SECOND)",
            (sample, patient, section, priority, TESTS[section], analyzer, status, *stamps),
        )
        order_id = cursor.lastrowid
        interface = next(a[3] for a in ANALYZERS if a[0] == analyzer)
        log = "INSERT INTO message_log (interface, analyzer, direction, message_type, logged_at) VALUES "
        cursor.execute(log + f"('HIS-ORDERS', NULL, 'in', 'ORM^O01', {ago_})", (when(ago),))
        if resulted is not None:
            cursor.execute(log + f"(%s, %s, 'in', 'ORU^R01', {ago_})", (interface, analyzer, when(resulted)))
            if self.rng.random() < 0.05:
                notify = resulted - self.rng.uniform(60, 480)
                cursor.execute(
                    "INSERT INTO critical_value (order_id, detected_at, notified_at, notified_role) VALUES"
                    " (%s, NOW() - INTERVAL %s SECOND, NOW() - INTERVAL %s SECOND, %s)",
                    (
                        order_id,
                        when(resulted),
                        when(notify if notify > 0 else None),
                        "doctor" if notify > 0 else None,
                    ),
                )
        if verified is not None:
            cursor.execute(log + f"('LIS-RESULTS', NULL, 'out', 'ORU^R01', {ago_})", (when(verified),))

    def tick(self, cursor: Any, seconds: float) -> None:
        """Advance the lab by `seconds`: new samples arrive and waiting ones move on."""
        for _ in range(max(1, round(seconds / 20))):
            self._order(cursor, 0)
        moves = [("received", "resulted", 900), ("resulted", "verified", 600), ("ordered", "received", 300)]
        for old, new, typical in moves:
            # Move the samples that have waited longer than a random share of the step's typical time;
            # STAT samples move three times as fast.
            wait = int(self.rng.uniform(0.3, 1.0) * typical)
            cursor.execute(
                "UPDATE lab_order SET status = %s,"
                " received_at = IF(%s = 'received', NOW(), received_at),"
                " resulted_at = IF(%s = 'resulted', NOW(), resulted_at),"
                " verified_at = IF(%s = 'verified', NOW(), verified_at)"
                " WHERE status = %s AND COALESCE(resulted_at, received_at, ordered_at) < NOW() - INTERVAL"
                " (CASE WHEN priority = 'STAT' THEN %s ELSE %s END) SECOND",
                (new, new, new, new, old, wait // 3, wait),
            )
            if new == "verified" and cursor.rowcount:
                cursor.execute(
                    "INSERT INTO message_log (interface, analyzer, direction, message_type, logged_at)"
                    " VALUES ('LIS-RESULTS', NULL, 'out', 'ORU^R01', NOW())"
                )
            if new == "resulted" and cursor.rowcount and self.rng.random() < 0.3:
                cursor.execute(
                    "INSERT INTO critical_value (order_id, detected_at) SELECT id, NOW() FROM lab_order"
                    " WHERE status = 'resulted' AND resulted_at >= NOW() - INTERVAL 1 SECOND LIMIT 1"
                )
        # Analyzers of staffed sections report; the others are idle outside their hours.
        cursor.execute(
            "INSERT INTO message_log (interface, analyzer, direction, message_type, logged_at)"
            " SELECT a.interface, a.code, 'in', 'ORU^R01', NOW() FROM analyzer a"
            " JOIN lab_section s ON s.code = a.section"
            " WHERE s.opens IS NULL OR (LOCATE(WEEKDAY(NOW()), s.weekdays) > 0"
            " AND CURTIME() >= s.opens AND CURTIME() < s.closes)"
        )
        cursor.execute(
            "UPDATE critical_value SET notified_at = NOW(), notified_role = 'doctor'"
            " WHERE notified_at IS NULL AND detected_at < NOW() - INTERVAL 180 SECOND"
        )
