"""What kind of day a date is: working day, weekend or public holiday, with adjusted working days (调休)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import holidays
from holidays.holiday_base import HolidayBase

from alertrouter.msg import N_
from alertrouter.policy.schema import CalendarConfig, CalendarFile
from hospmon.config import ConfigError, load

HOLIDAY_NAMES = (
    # The breaks the built-in China calendar names (holidays' CN, English): msgids, so that an explanation
    # names the holiday in the reader's language; a local file's names stay as the hospital wrote them.
    N_("New Year's Day"),
    N_("New Year's Day (observed)"),
    N_("Chinese New Year's Eve"),
    N_("Chinese New Year's Eve (observed)"),
    N_("Chinese New Year (Spring Festival)"),
    N_("Chinese New Year (Spring Festival) (observed)"),
    N_("Tomb-Sweeping Day"),
    N_("Tomb-Sweeping Day (observed)"),
    N_("Labor Day"),
    N_("Labor Day (observed)"),
    N_("Dragon Boat Festival"),
    N_("Dragon Boat Festival (observed)"),
    N_("Mid-Autumn Festival"),
    N_("Mid-Autumn Festival (observed)"),
    N_("Mid-Autumn Festival; National Day"),
    N_("National Day"),
    N_("National Day (observed)"),
)


class DayType(StrEnum):
    """The kinds of day that change who is at work."""

    working = "working day"
    adjusted = "adjusted working day"
    weekend = "weekend"
    holiday = "holiday"


@dataclass
class Calendar:
    """Holidays and worked weekend days; local entries win over the built-in country calendar."""

    country: str | None = None
    holidays: dict[dt.date, str] = field(default_factory=dict)
    working_days: dict[dt.date, str] = field(default_factory=dict)
    join_weekends: bool = True
    """A weekend day joined to a public holiday by days off is part of the break."""
    _builtin: HolidayBase | None = field(default=None, repr=False)
    _types: dict[dt.date, DayType] = field(default_factory=dict, repr=False, compare=False)
    """Dates already classified: every alert asks, and the lists do not change once loaded."""

    def __post_init__(self) -> None:
        if self.country:
            self._builtin = holidays.country_holidays(self.country)

    def day_type(self, day: dt.date) -> DayType:
        """Classify a local date."""
        kind = self._types.get(day)
        if kind is None:
            kind = self._listed_type(day)
            if kind is DayType.weekend and self._joined_holiday(day) is not None:
                kind = DayType.holiday
            self._types[day] = kind
        return kind

    def _joined_holiday(self, day: dt.date) -> dt.date | None:
        """Return the holiday a weekend day is joined to by other weekend days, if any.

        The country calendar lists the holidays themselves, not the weekend inside or beside the break: the
        State Council's arrangement (e.g. Spring Festival 2026, 15 to 23 February) includes them.
        """
        if not self.join_weekends:
            return None
        for step in (dt.timedelta(days=-1), dt.timedelta(days=1)):
            other = day + step
            while self._listed_type(other) is DayType.weekend:
                other += step
            if self._listed_type(other) is DayType.holiday:
                return other
        return None

    def _listed_type(self, day: dt.date) -> DayType:
        """Classify a date by the calendars' lists and the day of the week alone."""
        if day in self.working_days:
            return DayType.adjusted if day.weekday() >= 5 else DayType.working
        if day in self.holidays:
            return DayType.holiday
        if self._builtin is not None:
            if day in self._builtin:
                return DayType.holiday
            if day.weekday() >= 5 and self._builtin.is_working_day(day):
                return DayType.adjusted
        return DayType.weekend if day.weekday() >= 5 else DayType.working

    def is_working_day(self, day: dt.date) -> bool:
        """Tell whether staff work normal hours on a date."""
        return self.day_type(day) in (DayType.working, DayType.adjusted)

    def holiday_name(self, day: dt.date) -> str:
        """Return the name of the break a holiday belongs to ('National Day' for its day off), or ''."""
        if self.day_type(day) is not DayType.holiday:
            return ""
        names = [self._listed_name(d) for d in self._break_of(day)]
        # The country calendar names moved days off "Day off (substituted from ...)": name the break instead.
        named = [n for n in names if n and not n.startswith("Day off")]
        return named[0] if named else next((n for n in names if n), "")

    def _break_of(self, day: dt.date, reach: int = 10) -> list[dt.date]:
        """Return the days of the holiday break around `day`, nearest first."""
        days = [day]
        for step in (-1, 1):
            other = day + dt.timedelta(days=step)
            while abs((other - day).days) <= reach and self.day_type(other) is DayType.holiday:
                days.append(other)
                other += dt.timedelta(days=step)
        return sorted(days, key=lambda d: abs((d - day).days))

    def _listed_name(self, day: dt.date) -> str:
        if day in self.holidays:
            return self.holidays[day]
        if self._builtin is not None:
            return str(self._builtin.get(day) or "")
        return ""


def load_calendar(config: CalendarConfig, base: Path) -> Calendar:
    """Build the calendar from the built-in country calendar and local files, later files winning."""
    cal = Calendar(country=config.country, join_weekends=config.weekends_join_holidays)
    for name in config.files:
        part = load(CalendarFile, base / name)
        for day, why in part.holidays.items():
            cal.working_days.pop(day, None)
            cal.holidays[day] = why
        for day, why in part.working_days.items():
            cal.holidays.pop(day, None)
            cal.working_days[day] = why
    return cal


def check_country(config: CalendarConfig, file: Path) -> None:
    """Refuse a country the holidays package does not know."""
    if config.country and config.country not in holidays.list_supported_countries():
        raise ConfigError.single(file, f"unknown country {config.country!r}", entry="calendar", key="country")
