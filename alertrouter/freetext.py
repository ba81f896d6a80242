"""Free text people type (notes, fixes, reasons, articles, change records) through the PHI guard.

The router's one guard (`hospmon.phi`, the one alerts pass on intake) reads it as prose
(``PhiGuard.check_text``). A refusal is never a silent rewrite: the person is told what shape was found and
asked to describe the fault without patient details, and nothing is stored or paged. The guard logs the field
and the rule, never the value; views check before they open a transaction or write the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping

from alertrouter.errors import ApiError
from alertrouter.msg import N_
from hospmon.phi import PhiGuard

SHAPES = {
    "resident_id": N_("This looks like a resident ID number."),
    "mobile_phone": N_("This looks like a mobile number."),
    "landline_phone": N_("This looks like a phone number."),
    "record_number": N_("This looks like a medical record, visit, accession or sample number."),
    "email": N_("This looks like a personal e-mail address."),
    "han_name": N_("This looks like a patient's name."),
    "latin_name": N_("This looks like a person's name."),
}
ASK = N_("Describe the fault without patient details; nothing has been saved.")


class TextRefused(ApiError):
    """Free text the PHI guard refused: in which field, and the shape (the guard's rule) it looks like."""

    def __init__(self, field: str, rule: str) -> None:
        shape = SHAPES[rule].removeprefix("This ").rstrip(".")
        super().__init__(400, f"{field}: {shape} ({rule}); describe the fault without patient details")
        self.field = field
        self.rule = rule


def check_texts(guard: PhiGuard, texts: Mapping[str, str]) -> None:
    """Raise `TextRefused` for the first field whose text the guard refuses (counted and logged by rule)."""
    for field, text in texts.items():
        verdict = guard.check_text(field, text)
        if verdict.rule is not None:
            raise TextRefused(field, verdict.rule)
