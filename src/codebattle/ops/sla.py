"""Appeals' deadlines (pure; time is always given): a number of calendar or working days
after a moment, and how urgent a deadline is now.

Working days are Monday to Friday in the operators' time zone, without the public holidays
of a country (the `holidays` package; an empty country means weekends only). A deadline
N working days after a moment falls at the same local time on the N-th working day after
it; a moment on a weekend or holiday counts from the start (00:00) of the next working day.
Calendar days are plain 24-hour days."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays

WORKING, CALENDAR = "working", "calendar"
# How a deadline reads now: plenty of time, under the warning threshold, or passed.
OK, SOON, LAPSED = "ok", "soon", "lapsed"


@dataclass(frozen=True)
class Calendar:
    """How days are counted: `count` is WORKING or CALENDAR; `country` names the public
    holidays that are not working days ("" for none); `zone` is where days begin."""

    count: str
    zone: tzinfo
    country: str = ""

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _holidays(self.country, day.year)

    def add_days(self, start: datetime, days: int) -> datetime:
        """`days` days after `start` (an aware datetime), counted as this calendar counts."""
        if self.count == CALENDAR:
            return start + timedelta(days=days)
        local = start.astimezone(self.zone)
        day = local.date()
        if not self.is_working_day(day):
            day = self._next_working(day)
            local = datetime.combine(day, time(0, 0), tzinfo=self.zone)
        for _ in range(days):
            day = self._next_working(day)
        moment = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.zone)
        return moment.astimezone(start.tzinfo)

    def _next_working(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> Container[date]:
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, years=year).keys())


def urgency(due: datetime, now: datetime, warn_hours: float) -> str:
    """LAPSED once `due` has passed, SOON within `warn_hours` of it, else OK."""
    if now >= due:
        return LAPSED
    if due - now <= timedelta(hours=warn_hours):
        return SOON
    return OK


def seconds_left(due: datetime, now: datetime) -> float:
    """Seconds until `due` (negative once it has passed)."""
    return (due - now).total_seconds()
