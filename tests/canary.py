"""The canary patient: planted in test data at the source and searched for wherever data ends up.

Every layer's canary test plants these values (HIS and LIS tables, PACS studies, alert labels) and then
asserts `leaks(text)` is empty for every metric line, log line, stored row, message and page it produced.
The resident ID's checksum is valid and its birth date real, as a real one's would be.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CanaryPatient:
    """A fake patient whose every identifier is unmistakable in any output."""

    name: str = "柳如烟"
    name_latin: str = "Liu Ruyan"
    name_dicom: str = "LIU^RUYAN"
    resident_id: str = "11010519850815123X"
    resident_id_spaced: str = "110105 19850815 123X"
    mrn: str = "MRN20240815"
    visit: str = "ZY20240815001"
    accession: str = "ACC20240815007"
    phone: str = "13912345678"
    phone_dashed: str = "139-1234-5678"

    def planted(self) -> list[str]:
        """Return every form planted in test data."""
        return [
            self.name,
            self.name_latin,
            self.name_dicom,
            self.resident_id,
            self.resident_id_spaced,
            self.mrn,
            self.visit,
            self.accession,
            self.phone,
            self.phone_dashed,
        ]


CANARY = CanaryPatient()

# Fragments searched for: each planted value, and the parts a formatter could split or re-case.
_NEEDLES = [
    *CANARY.planted(),
    "如烟",
    "ruyan",
    "19850815123",
    "20240815001",
    "20240815007",
    "1234-5678",
    "12345678",
]


def leaks(text: str) -> list[str]:
    """Return the canary fragments found in `text` (case-insensitive); empty means nothing leaked."""
    lowered = text.lower()
    return sorted({needle for needle in _NEEDLES if needle.lower() in lowered})
