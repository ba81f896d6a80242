"""The label guard: no value becomes a label unless the query's rules allow it.

Every label column of a custom query has an allow-list or a bounded pattern (the config refuses a label
without one, and a pattern that admits free text), every query has a cardinality cap, and the PHI guard
(`hospmon.phi`: resident IDs, phone numbers, record numbers, names) refuses identifiers whatever the rules
say. A refused query fails as a whole with reason ``check_failed``; the error names the query, the column and
the guard's rule, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from exporters.database.config import LabelRule
from hospmon.phi import PhiGuard


class GuardError(Exception):
    """A query's rows would export label values its rules do not allow."""


class LabelGuard:
    """Checks label values of one query against its rules and its cardinality cap."""

    def __init__(
        self, query: str, rules: Mapping[str, LabelRule], max_series: int, phi: PhiGuard | None = None
    ) -> None:
        self.query = query
        self.phi = phi or PhiGuard()
        self.max_series = max_series
        self._allow = {col.lower(): frozenset(r.allow) for col, r in rules.items() if r.allow is not None}
        self._pattern = {
            col.lower(): re.compile(r.pattern) for col, r in rules.items() if r.pattern is not None
        }

    def check(self, column: str, value: str) -> None:
        """Raise `GuardError` unless `value` may be a label value of `column`."""
        col = column.lower()
        verdict = self.phi.check(column, value)
        if verdict.rule is not None:
            raise GuardError(
                f"query {self.query}: label column {column} returned a value the PHI guard refuses "
                f"(rule {verdict.rule}); monitoring exports counts and states, never patient identifiers"
            )
        if col in self._allow:
            if value not in self._allow[col]:
                raise GuardError(
                    f"query {self.query}: label column {column} returned a value outside its allow-list"
                )
        elif col in self._pattern:
            if not self._pattern[col].fullmatch(value):
                raise GuardError(
                    f"query {self.query}: label column {column} returned a value not matching its pattern"
                )
        else:
            raise GuardError(f"query {self.query}: label column {column} has no rule")

    def check_cardinality(self, metric: str, count: int) -> None:
        """Raise `GuardError` when a metric would have more series than the cap."""
        if count > self.max_series:
            raise GuardError(
                f"query {self.query}: metric {metric} would have {count} series, more than max_series "
                f"{self.max_series}; aggregate in SQL or raise the cap"
            )
