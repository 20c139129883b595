"""Cron schedules and time zones, checked as the schedulers that run them check them.

Kubernetes CronJobs, Argo CronWorkflows and the Spark operator's ScheduledSparkApplications
all parse a schedule with robfig/cron's standard parser (github.com/robfig/cron/v3
`parser.go`, `ParseStandard`): five fields (minute, hour, day of month, month, day of
week), `*`, `?` (day fields), lists, ranges, steps, the month and weekday names JAN-DEC and
SUN-SAT, and the descriptors @yearly, @annually, @monthly, @weekly, @daily, @midnight and
@hourly. A day of month and a day of week that are both restricted match either (the
`dayMatches` rule of `spec.go`). The time zone goes in its own field (CronJob
`spec.timeZone`, CronWorkflow `spec.timezone`, ScheduledSparkApplication `spec.timeZone`);
Kubernetes refuses `CRON_TZ=` or `TZ=` in the schedule then, and refuses the zone `Local`
(pkg/apis/batch/validation `validateTimeZone`).

`runs_per_month` counts a schedule's runs over one common year, divided by twelve: what
`dsenv cost` multiplies by a run's duration.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import NamedTuple

DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


class _Field(NamedTuple):
    what: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 6, _DAYS),
)


class Schedule(NamedTuple):
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month or day of week is `*`/`?`: both must match (else either)


def _number(text: str, field: _Field) -> int:
    value = field.names.get(text.upper())
    if value is not None:
        return value
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a {field.what}")
    number = int(text)
    if not field.low <= number <= field.high:
        raise ValueError(f"{field.what} {number} is outside {field.low}-{field.high}")
    return number


def _field(text: str, field: _Field) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise ValueError(f"an empty item in the {field.what} field")
        rng, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{step_text!r} is not a step (a positive number)")
            step = int(step_text)
        if rng in ("*", "?"):
            if rng == "?" and field.what not in ("day of month", "day of week"):
                raise ValueError(f"'?' is only allowed in the day fields, not the {field.what}")
            low, high = field.low, field.high
            star = star or step == 1
        elif "-" in rng:
            a, _, b = rng.partition("-")
            low, high = _number(a, field), _number(b, field)
            if low > high:
                raise ValueError(f"the {field.what} range {rng} runs backwards")
        else:
            low = _number(rng, field)
            high = field.high if slash else low
        values.update(range(low, high + 1, step))
    return frozenset(values), star


def parse(text: str) -> Schedule:
    """The schedule of a cron expression; ValueError with the reason otherwise."""
    expr = text.strip()
    if expr.upper().startswith(("CRON_TZ=", "TZ=")):
        raise ValueError("write the time zone in time_zone, not as CRON_TZ= or TZ= in the schedule")
    if expr.startswith("@"):
        if expr.lower().startswith("@every"):
            raise ValueError("@every is not a cron schedule Kubernetes CronJobs accept")
        if expr.lower() not in DESCRIPTORS:
            raise ValueError(f"{expr!r} is not a descriptor; use one of {', '.join(DESCRIPTORS)}")
        expr = DESCRIPTORS[expr.lower()]
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(
            f"a cron schedule has 5 fields (minute hour day-of-month month day-of-week), "
            f"this one has {len(parts)}"
        )
    fields = [_field(p, f) for p, f in zip(parts, _FIELDS, strict=True)]
    (minutes, _), (hours, _), (days, dom_star), (months, _), (weekdays, dow_star) = fields
    schedule = Schedule(minutes, hours, days, months, weekdays, dom_star or dow_star)
    if runs_per_year(schedule) == 0:
        raise ValueError("the schedule never fires (no such day in any month)")
    return schedule


def _day_matches(s: Schedule, day: datetime.date) -> bool:
    dom = day.day in s.days
    dow = day.isoweekday() % 7 in s.weekdays
    return (dom and dow) if s.any_day else (dom or dow)


def runs_per_year(s: Schedule, year: int = 2025) -> float:
    """Runs in one common year (2025); a schedule only on 29 February runs in leap years
    alone, so it is counted over 2028."""
    start = datetime.date(year, 1, 1)
    days = sum(
        1
        for offset in range(366 if year % 4 == 0 else 365)
        if (d := start + datetime.timedelta(days=offset)).month in s.months and _day_matches(s, d)
    )
    if days == 0 and year == 2025:
        return runs_per_year(s, 2028) / 4
    return days * len(s.hours) * len(s.minutes)


def runs_per_month(text: str) -> float:
    return runs_per_year(parse(text)) / 12


def check_schedule(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError('expected a cron schedule as a quoted string, such as "0 2 * * *"')
    parse(value)
    return value


def _known_zone(name: str) -> bool:
    """One zone file looked up (listing them all costs a `validate` about 80 ms)."""
    import zoneinfo

    if name.startswith(("/", ".")) or ".." in name or len(name) > 255:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@cache
def _zones() -> frozenset[str] | None:
    """Every zone the system knows; None without a time zone database (then any name
    passes, and the API server has the last word)."""
    import zoneinfo

    zones = frozenset(zoneinfo.available_timezones())
    return zones or None


def check_time_zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected an IANA time zone name as a string, such as Europe/Berlin")
    if value.lower() == "local":
        raise ValueError(
            "Local is not allowed (it is the controller's zone, not a fixed one); "
            "name an IANA time zone such as Europe/Berlin or UTC"
        )
    if value != "UTC" and not _known_zone(value) and _zones() is not None:
        raise ValueError(
            f"{value[:60]!r} is not an IANA time zone name; write one such as "
            "Europe/Berlin, America/New_York or UTC"
        )
    return value


def _shift_weekdays(field: str) -> str:
    """Cron weekdays (0 = Sunday) as EventBridge numbers them (1 = Sunday); names stay."""

    def shift(token: str) -> str:
        return str(int(token) + 1) if token.isdigit() else token

    out = []
    for part in field.split(","):
        rng, slash, step = part.partition("/")
        if rng not in ("*", "?"):
            a, dash, b = rng.partition("-")
            rng = shift(a) + (dash + shift(b) if dash else "")
        out.append(rng + (slash + step))
    return ",".join(out)


def eventbridge(text: str) -> str:
    """A cron schedule in EventBridge Scheduler's form, `cron(min hour dom month dow year)`:
    weekdays 1-7 from Sunday, and one of the two day fields `?` (EventBridge Scheduler
    "Schedule types", cron-based schedules). ValueError when both day fields are restricted:
    EventBridge cannot say "either"."""
    expr = DESCRIPTORS.get(text.strip().lower(), text.strip())
    minute, hour, dom, month, dow = expr.split()
    dom_any, dow_any = dom in ("*", "?"), dow in ("*", "?")
    if not dom_any and not dow_any:
        raise ValueError(
            "EventBridge Scheduler cannot run on a day of month and a day of week both; "
            "restrict one of them and write * in the other"
        )
    if dow_any:
        dow = "?"
    else:
        dom, dow = "?", _shift_weekdays(dow)

    def start(field: str, low: int) -> str:  # EventBridge writes increments from a start
        return ",".join(f"{low}/{p[2:]}" if p.startswith("*/") else p for p in field.split(","))

    minute, hour, dom, month = start(minute, 0), start(hour, 0), start(dom, 1), start(month, 1)
    dow = start(dow, 1)
    return f"cron({minute} {hour} {dom} {month} {dow} *)"
