"""A reminder's schedule: its RRULE checked, expanded in the person's wall-clock time, and said in words.

"Every day at 08:00" means 08:00 on the kitchen clock, before and after the clocks change. So the rule
is expanded by dateutil on *naive local* datetimes (DTSTART is the first time as read on the local
clock) and each occurrence becomes an instant with ZoneInfo: a wall time that does not exist (the
spring gap) moves forward by the gap, a repeated one (autumn) is the first of the two -- the choices
of domain.timeexpr, which writes these rules.

Only the shapes reminders need are accepted (FREQ, INTERVAL, COUNT, UNTIL, BYSECOND, BYMINUTE, BYHOUR,
BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST; BYSETPOS as "at 8am and 6:30pm" is BYHOUR=8,18;BYMINUTE=0,30
with the 1st and 4th of each day's four times), and a rule must have an occurrence within 30 years of
its start: an impossible rule ("every February 30th") makes dateutil search until the year 9999,
seconds of CPU the scheduler cannot spare. A rule that can happen once happens again within its
calendar period, so the scheduler's searches stay short.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from domain.errors import InvalidInput
from domain.wording import (
    MONTHS_SV,
    WEEKDAYS_SV,
    Said,
    clock_sv,
    join,
    said,
    short_date_sv,
    short_weekday_sv,
    weekday_sv,
)

__all__ = ["Schedule", "check_schedule", "describe_once", "earlier_rule", "parse_rule"]

_KEYS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY"}
    | {"BYMONTH", "BYSETPOS", "WKST"}
)
_FREQS = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_VALUE = re.compile(r"^[A-Z0-9,+\-]+$")
_ORDINAL_DAY = re.compile(r"^[+-]?\d")
_HORIZON_YEARS = 30
_DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday"}
_DAYS |= {"SA": "Saturday", "SU": "Sunday"}
_WEEK_CODES = tuple(_DAYS)
_MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
)
_MONTHS += ("October", "November", "December")
_MONTH_LENGTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a reminder is due: once at `first_at`, or by `rule` from `first_at` on."""

    first_at: datetime
    """Aware, whole seconds: the first time, also DTSTART of the rule (read on the local clock).

    Instants here are kept in UTC: Python compares two datetimes of the same ZoneInfo by their wall
    clock, which is wrong around a clock change."""
    rule: str | None
    """An RRULE body ("FREQ=DAILY;BYHOUR=8;BYMINUTE=0") in local wall-clock time; None: a one-off."""
    timezone: str
    """The IANA zone whose clock the rule follows."""

    @property
    def local_start(self) -> datetime:
        """DTSTART as dateutil sees it: naive, on the local clock."""
        return _naive(self.first_at, ZoneInfo(self.timezone))

    def next_after(self, after: datetime) -> datetime | None:
        """The first occurrence strictly after the instant `after`, in UTC, or None."""
        after = after.astimezone(UTC)
        if self.rule is None:
            first = self.first_at.astimezone(UTC)
            return first if first > after else None
        zone = ZoneInfo(self.timezone)
        start = _naive(after, zone) - _transition_slack(after, zone)
        start = max(start, self.local_start)
        for naive in _anchored(self.rule, self.local_start, self.timezone, start).xafter(start, inc=True):
            instant = naive.replace(tzinfo=zone).astimezone(UTC)
            if instant > after:
                return instant
        return None

    def first_due(self, now: datetime, grace: timedelta) -> datetime | None:
        """The first occurrence a new (or resumed) reminder should fire: none older than `grace`."""
        return self.next_after(max(self.first_at.astimezone(UTC), now - grace) - timedelta(microseconds=1))

    def between(self, start: datetime, end: datetime) -> list[datetime]:
        """Occurrences in [start, end), in order."""
        found: list[datetime] = []
        due = self.next_after(start - timedelta(microseconds=1))
        while due is not None and due < end:
            found.append(due)
            due = self.next_after(due)
        return found

    def describe(self, now: datetime) -> Said:
        """Plain words: "every day at 08:00", "tomorrow at 09:00" (with their Swedish)."""
        if self.rule is None:
            return describe_once(self.first_at, now, self.timezone)
        parts = parse_rule(self.rule)
        if "COUNT" in parts:
            return self._describe_counted(self.rule, parts, now)
        return _describe_rule(parts, self.local_start)

    def _describe_counted(self, rule: str, parts: dict[str, str], now: datetime) -> Said:
        """A rule that ends after COUNT times must not read as "every day": times all on one day read
        as that day ("tomorrow at 09:00 and 19:00"), others say how many times."""
        count = int(parts["COUNT"])
        if count <= _ONE_DAY_MOST:
            local = list(_compiled(rule, self.local_start, self.timezone))
            if local and len({moment.date() for moment in local}) == 1:
                return describe_once(self.first_at, now, self.timezone, more=local[1:])
        every = _describe_rule(parts, self.local_start)
        times = "once" if count == 1 else "twice" if count == 2 else f"{count} times"
        return said(f"{every}, {times}", f"{every.sv}, {count} {'gång' if count == 1 else 'gånger'}")


def check_schedule(first_at: datetime, rule: str | None, timezone: str, min_interval: float) -> Schedule:
    """A schedule built from slots, or InvalidInput naming what is wrong. `first_at` may be naive
    (read in `timezone`); it is cut to whole seconds. Occurrences must be `min_interval` s apart."""
    zone = ZoneInfo(timezone)
    first = (first_at if first_at.tzinfo else first_at.replace(tzinfo=zone)).astimezone(zone)
    first = first.replace(microsecond=0).astimezone(UTC)
    schedule = Schedule(first, normalize_rule(rule) if rule else None, timezone)
    if schedule.rule is None:
        return schedule
    _check_possible(schedule)
    first_three = list(itertools.islice(_compiled(schedule.rule, schedule.local_start, timezone), 3))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(first_three)]
    if gaps and min(gaps) < min_interval:
        raise InvalidInput(f"reminders may repeat at most every {min_interval:g} seconds")
    return schedule


def earlier_rule(rule: str, before: timedelta, at_hour: int | None = None) -> str | None:
    """The rule of a reminder that comes `before` ahead of each time of `rule` ("every Tuesday at 9,
    remind me the day before" is every Monday at 9), at `at_hour` when that is said ("the night
    before"). None when one rule of the same shape cannot say it: BYSETPOS, times that would land
    on different days, or a monthly day before the month's last."""
    parts = parse_rule(rule)
    if parts["FREQ"] not in ("DAILY", "WEEKLY", "MONTHLY") or {"BYSETPOS", "BYSECOND"} & set(parts):
        return None
    minutes = [int(m) for m in parts.get("BYMINUTE", "0").split(",")]
    times = [(int(h), m) for h in parts["BYHOUR"].split(",") for m in minutes] if "BYHOUR" in parts else []
    lead = int(before.total_seconds() // 60)
    if at_hour is not None:  # "the night before": whole days back, at that hour
        times, shifts = [(at_hour, 0)], {-(-lead // 1440)}
    elif times:
        moved = [h * 60 + m - lead for h, m in times]
        shifts = {-(t // 1440) for t in moved}
        times = [divmod(t % 1440, 60) for t in moved]
    else:  # the time of day comes from DTSTART: only whole days can move
        shifts = {lead // 1440} if lead % 1440 == 0 else set()
    if len(shifts) != 1 or not _shift_days(parts, shifts.pop()):
        return None
    if times:
        hours, mins = sorted({h for h, _ in times}), sorted({m for _, m in times})
        if len(hours) * len(mins) != len(set(times)):
            return None  # 08:00 and 08:30 less 10 minutes: not BYHOUR x BYMINUTE
        parts["BYHOUR"], parts["BYMINUTE"] = ",".join(map(str, hours)), ",".join(map(str, mins))
    return ";".join(f"{key}={value}" for key, value in parts.items())


def _shift_days(parts: dict[str, str], days: int) -> bool:
    """Move the rule's named days `days` earlier, in place; False when that cannot be said. Days
    the rule takes from DTSTART move with the start."""
    if days == 0 or parts["FREQ"] == "DAILY":
        return True
    if parts["FREQ"] == "WEEKLY":
        if "BYDAY" in parts:
            parts["BYDAY"] = ",".join(
                _WEEK_CODES[(_WEEK_CODES.index(code) - days) % 7] for code in parts["BYDAY"].split(",")
            )
        return True
    if "BYDAY" in parts or "," in parts.get("BYMONTHDAY", ""):
        return False
    if "BYMONTHDAY" in parts:
        said = int(parts["BYMONTHDAY"])
        day = said - days
        if said > 0 and day < 1:
            day -= 1  # into the month before, counted from its end: the day before the 1st is -1
        if day < -28:
            return False
        parts["BYMONTHDAY"] = str(day)
    return True


def normalize_rule(text: str) -> str:
    """The rule body in upper case without an "RRULE:" prefix; InvalidInput unless it is a single
    RRULE of the accepted shape."""
    parts = parse_rule(text)
    return ";".join(f"{key}={value}" for key, value in parts.items())


def parse_rule(text: str) -> dict[str, str]:
    body = text.strip().upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in filter(None, body.split(";")):
        key, sep, value = item.partition("=")
        if not sep or key not in _KEYS or key in parts or not _VALUE.match(value):
            raise InvalidInput(f"the recurrence {text!r} is not a rule reminders accept (at {item!r})")
        parts[key] = value
    if parts.get("FREQ") not in _FREQS:
        raise InvalidInput(f"the recurrence {text!r} needs FREQ, one of {', '.join(_FREQS)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidInput("a recurrence has COUNT or UNTIL, not both")
    _check_days(parts)
    return parts


def _check_days(parts: dict[str, str]) -> None:
    """Ordinal weekdays ("the 2nd Monday") only make sense by month or year; and every BYMONTHDAY must
    exist in some BYMONTH."""
    days = parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []
    if parts["FREQ"] not in ("MONTHLY", "YEARLY") and any(_ORDINAL_DAY.match(d) for d in days):
        raise InvalidInput("ordinal weekdays (like 2MO) need FREQ=MONTHLY or FREQ=YEARLY")
    try:
        months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else list(range(1, 13))
        monthdays = [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else []
    except ValueError as exc:
        raise InvalidInput("BYMONTH and BYMONTHDAY take numbers") from exc
    longest = max((_MONTH_LENGTH[m - 1] for m in months if 1 <= m <= 12), default=0)
    if any(abs(d) > longest or d == 0 for d in monthdays):
        raise InvalidInput("a BYMONTHDAY in the recurrence never happens in its months")


def _check_possible(schedule: Schedule) -> None:
    """dateutil's own checks, and an occurrence within the horizon (searched with a bounded copy)."""
    assert schedule.rule is not None
    start = schedule.local_start
    parts = parse_rule(schedule.rule)
    parts.pop("COUNT", None)
    bound = start.replace(year=start.year + _HORIZON_YEARS, day=min(start.day, 28))
    parts["UNTIL"] = min(_until_local(parts.get("UNTIL"), schedule.timezone) or bound, bound).strftime(
        "%Y%m%dT%H%M%S"
    )
    try:
        bounded = _compiled(";".join(f"{k}={v}" for k, v in parts.items()), start, schedule.timezone)
        _compiled(schedule.rule, start, schedule.timezone)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"the recurrence {schedule.rule!r} is not valid: {exc}") from exc
    if bounded.after(start, inc=True) is None:
        raise InvalidInput(f"the recurrence {schedule.rule!r} never happens after the first time")


_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
}


def _anchored(rule: str, dtstart: datetime, timezone: str, target: datetime) -> rrule:
    """The rule with DTSTART moved forward by whole periods (FREQ x INTERVAL, on the local clock) to
    just before `target`. dateutil searches from DTSTART on, so without this finding the next
    occurrence of a years-old daily rule (or an hours-old one by the second) costs a step per period
    elapsed. Whole periods keep the interval's alignment and every part DTSTART supplies by default
    (the time of day, the weekday). Rules with COUNT count from the true DTSTART and are not moved."""
    parts = _parts(rule)
    unit = _PERIOD.get(parts["FREQ"])
    if unit is None or "COUNT" in parts or target <= dtstart:
        return _compiled(rule, dtstart, timezone)
    step = unit * int(parts.get("INTERVAL", "1") or "1")
    return _compiled(rule, dtstart + ((target - dtstart) // step) * step, timezone)


@lru_cache(maxsize=1024)
def _parts(rule: str) -> dict[str, str]:
    return parse_rule(rule)


@lru_cache(maxsize=4096)
def _compiled(rule: str, dtstart: datetime, timezone: str) -> rrule:
    """The dateutil rule on the local clock; a UTC UNTIL is turned into local wall-clock time."""
    parts = parse_rule(rule)
    if parts.get("UNTIL", "").endswith("Z"):
        until = _until_local(parts["UNTIL"], timezone)
        assert until is not None
        parts["UNTIL"] = until.strftime("%Y%m%dT%H%M%S")
    compiled = rrulestr(";".join(f"{k}={v}" for k, v in parts.items()), dtstart=dtstart)
    if not isinstance(compiled, rrule):
        raise InvalidInput("a recurrence is one RRULE")
    return compiled


def _until_local(value: str | None, timezone: str) -> datetime | None:
    if value is None:
        return None
    try:
        if value.endswith("Z"):
            instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return _naive(instant, ZoneInfo(timezone))
        return datetime.strptime(value, "%Y%m%dT%H%M%S" if "T" in value else "%Y%m%d")
    except ValueError as exc:
        raise InvalidInput(f"UNTIL={value} is not a date-time like 20261231T235959Z") from exc


def _naive(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _transition_slack(instant: datetime, zone: ZoneInfo) -> timedelta:
    """Near a clock change a wall time in the gap maps forward, so the search starts that much earlier."""
    before = (instant - timedelta(hours=3)).astimezone(zone).utcoffset() or timedelta(0)
    after = (instant + timedelta(hours=3)).astimezone(zone).utcoffset() or timedelta(0)
    return abs(after - before)


# ------------------------------------------------------------------------------------ plain words


_ONE_DAY_MOST = 24
"""The most times a counted rule may hold and still be read as one day's list ("at 09:00 and 19:00")."""


def describe_once(at: datetime, now: datetime, timezone: str, more: Sequence[datetime] = ()) -> Said:
    """'today at 09:00', 'tomorrow at 09:00', 'on Friday 27 Nov at 09:00', 'on Mon 4 Jan 2027 at 09:00'
    (and the same in Swedish); `more` are later times the same day, on the local clock."""
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    clock, klockan = f"at {local:%H:%M}", clock_sv(local)
    if more:
        times = [f"{moment:%H:%M}" for moment in (local, *more)]
        clock, klockan = "at " + join(times, "and"), "kl. " + join(times, "och")
    if days == 0:
        return said(f"today {clock}", f"i dag {klockan}")
    if days == 1:
        return said(f"tomorrow {clock}", f"i morgon {klockan}")
    if 1 < days < 7:
        return said(
            f"on {local:%A} {local.day} {local:%b} {clock}",
            f"på {weekday_sv(local)} {short_date_sv(local)} {klockan}",
        )
    year = f" {local.year}" if local.year != now.astimezone(zone).year else ""
    return said(
        f"on {local:%a} {local.day} {local:%b}{year} {clock}",
        f"{short_weekday_sv(local)} {short_date_sv(local)}{year} {klockan}",
    )


_SUB_DAILY = {"SECONDLY": "second", "MINUTELY": "minute", "HOURLY": "hour"}
_SUB_DAILY_SV = {"SECONDLY": "sekund", "MINUTELY": "minut", "HOURLY": "timme"}
_PLAIN = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"})
_CLOCK = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS"})
_SAYABLE: dict[str, frozenset[str]] = {
    "DAILY": _PLAIN | _CLOCK,
    "WEEKLY": _PLAIN | _CLOCK | {"BYDAY"},
    "MONTHLY": _PLAIN | _CLOCK | {"BYMONTHDAY"},
    "YEARLY": _PLAIN | _CLOCK | {"BYMONTHDAY", "BYMONTH"},
} | {freq: _PLAIN for freq in _SUB_DAILY}
_GENERIC = said("on a repeating schedule", "enligt ett återkommande schema")


def _every_sv(interval: int, unit: str) -> str:
    """ "varje dag", "varannan dag", "var 3:e dag" """
    if interval == 1:
        return f"varje {unit}"
    return f"varannan {unit}" if interval == 2 else f"var {interval}:e {unit}"


def _describe_rule(parts: dict[str, str], start: datetime) -> Said:
    freq = parts["FREQ"]
    if not set(parts) <= _SAYABLE[freq]:
        return _GENERIC
    interval = int(parts.get("INTERVAL", "1") or "1")
    if freq in _SUB_DAILY:
        unit = _SUB_DAILY[freq]
        return said(
            f"every {unit}" if interval == 1 else f"every {interval} {unit}s",
            _every_sv(interval, _SUB_DAILY_SV[freq]),
        )
    times = _clock_times(parts, start)
    if times is None:
        return _GENERIC
    clock = said("at " + join(times, "and"), "kl. " + join(times, "och"))
    if freq == "DAILY":
        every = said("every day" if interval == 1 else f"every {interval} days", _every_sv(interval, "dag"))
        return said(f"{every} {clock}", f"{every.sv} {clock.sv}")
    if freq == "WEEKLY":
        weekly = _weekly(parts, start, interval)
        return said(f"{weekly} {clock}", f"{weekly.sv} {clock.sv}")
    return _monthly_or_yearly(parts, start, interval, clock)


def _clock_times(parts: dict[str, str], start: datetime) -> list[str] | None:
    """The times of day, or None when BYSETPOS does not keep the same times on every day."""
    hours = sorted(int(h) for h in parts["BYHOUR"].split(",")) if "BYHOUR" in parts else [start.hour]
    minutes = sorted(int(m) for m in parts["BYMINUTE"].split(",")) if "BYMINUTE" in parts else [start.minute]
    pairs = [(h, m) for h in hours for m in minutes]
    if "BYSETPOS" in parts:
        kept = _kept_each_day(parts, len(pairs))
        if kept is None:
            return None
        pairs = [pairs[i] for i in kept]
    return [f"{h:02d}:{m:02d}" for h, m in pairs]


def _kept_each_day(parts: dict[str, str], per_day: int) -> list[int] | None:
    """Which of a day's BYHOUR x BYMINUTE times BYSETPOS keeps, when it keeps the same ones on each day of
    the period (a day, or a week's BYDAY days, as domain.timeexpr writes); else None."""
    by_month = parts["FREQ"] in ("MONTHLY", "YEARLY")
    if "BYSECOND" in parts or (by_month and "," in parts.get("BYMONTHDAY", ",") + parts.get("BYMONTH", "")):
        return None  # a month's or year's days are not one day each period
    days = len(parts["BYDAY"].split(",")) if parts["FREQ"] == "WEEKLY" and "BYDAY" in parts else 1
    try:
        positions = {int(p) for p in parts["BYSETPOS"].split(",")}
    except ValueError:
        return None
    kept = sorted({(p - 1) % per_day for p in positions if p > 0})
    regular = {day * per_day + i + 1 for day in range(days) for i in kept}
    return kept if kept and positions == regular else None


def _weekly(parts: dict[str, str], start: datetime, interval: int) -> Said:
    codes = parts["BYDAY"].split(",") if "BYDAY" in parts else [_WEEK_CODES[start.weekday()]]
    ordered = [code for code in _DAYS if code in codes]
    if len(ordered) == 7:
        days = said("day", "dag")
    elif ordered == ["MO", "TU", "WE", "TH", "FR"]:
        days = said("weekday", "vardag")
    else:
        names_sv = [WEEKDAYS_SV[_WEEK_CODES.index(code)] for code in ordered]
        days = said(join([_DAYS[code] for code in ordered], "and"), join(names_sv, "och"))
    if interval == 1:
        return said(f"every {days}", f"varje {days.sv}")
    return said(
        f"every {'other week' if interval == 2 else f'{interval} weeks'} on {days}",
        f"{_every_sv(interval, 'vecka')} på {days.sv}",
    )


def _monthly_or_yearly(parts: dict[str, str], start: datetime, interval: int, clock: Said) -> Said:
    monthdays = [int(d) for d in parts.get("BYMONTHDAY", str(start.day)).split(",")]
    days = said(
        join([_ordinal(d) for d in monthdays], "and"), join([_ordinal_sv(d) for d in monthdays], "och")
    )
    if parts["FREQ"] == "MONTHLY":
        every = said(
            "every month" if interval == 1 else f"every {interval} months", _every_sv(interval, "månad")
        )
        return said(f"on the {days} of {every} {clock}", f"den {days.sv} {every.sv} {clock.sv}")
    months = [int(m) for m in parts.get("BYMONTH", str(start.month)).split(",")]
    every = said("every year" if interval == 1 else f"every {interval} years", _every_sv(interval, "år"))
    names = [_MONTHS[m - 1] for m in months]
    names_sv = [MONTHS_SV[m - 1] for m in months]
    if len(monthdays) != 1 or monthdays[0] < 0:
        return said(
            f"{every} on the {days} of {join(names, 'and')} {clock}",
            f"{every.sv} den {days.sv} i {join(names_sv, 'och')} {clock.sv}",
        )
    day = monthdays[0]
    return said(
        f"{every} on {join([f'{day} {name}' for name in names], 'and')} {clock}",
        f"{every.sv} den {join([f'{day} {name}' for name in names_sv], 'och')} {clock.sv}",
    )


def _ordinal(day: int) -> str:
    if day == -1:
        return "last day"
    if day < 0:
        return f"{_ordinal(-day)} last day"
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _ordinal_sv(day: int) -> str:
    """ "1", "sista dagen", "2:a sista dagen" (Swedish dates take the plain number: "den 15")."""
    if day == -1:
        return "sista dagen"
    if day < 0:
        n = -day
        return f"{n}:{'a' if n % 10 in (1, 2) and n % 100 not in (11, 12) else 'e'} sista dagen"
    return str(day)
