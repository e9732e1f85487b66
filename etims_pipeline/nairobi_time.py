"""Every time-zone rule of the project lives here.

eTIMS speaks Kenyan local time (Africa/Nairobi, UTC+3, no daylight saving), partitions are Nairobi days,
and the KPI schedule fires at 00:30 Nairobi. Everything else stores aware UTC datetimes and asks this
module to convert, so the host's own time zone never matters.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NAIROBI_TZ_NAME = "Africa/Nairobi"
NAIROBI = ZoneInfo(NAIROBI_TZ_NAME)

ETIMS_DATETIME_FORMAT = "%Y%m%d%H%M%S"
ETIMS_DATE_FORMAT = "%Y%m%d"
PARTITION_KEY_FORMAT = "%Y-%m-%d"
# selectInvoiceDetails answers sdcDateTime as "YYYY-MM-DD HH:MM:SS[.ffffff]" instead of yyyyMMddHHmmss.
_LOOKUP_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")
# strptime accepts one-digit fields ("2026112411" parses), so the compact forms are checked for length first.
_COMPACT_DATETIME = re.compile(r"[0-9]{14}")
_COMPACT_DATE = re.compile(r"[0-9]{8}")


class NaiveDatetimeError(ValueError):
    """A datetime without an offset reached code that must know which instant it is."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(f"datetime {moment.isoformat()} has no UTC offset; give it one (e.g. +03:00)")
    return moment


def to_nairobi(moment: datetime) -> datetime:
    return require_aware(moment).astimezone(NAIROBI)


def to_utc(moment: datetime) -> datetime:
    return require_aware(moment).astimezone(UTC)


def nairobi_date(moment: datetime) -> date:
    """The Nairobi calendar day an instant falls on (the day an invoice belongs to)."""
    return to_nairobi(moment).date()


def day_start_utc(day: date) -> datetime:
    """00:00 Nairobi on `day`, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=NAIROBI).astimezone(UTC)


def day_bounds_utc(first_day: date, last_day: date | None = None) -> tuple[datetime, datetime]:
    """Half-open UTC interval [00:00 Nairobi of first_day, 00:00 Nairobi after last_day)."""
    last = last_day or first_day
    return day_start_utc(first_day), day_start_utc(last + timedelta(days=1))


# The daily close runs at 00:30 Nairobi; an invoice not in eTIMS by 01:00 the next day is backlog.
BACKLOG_GRACE = timedelta(hours=1)


def backlog_cutoff_utc(day: date) -> datetime:
    """When the backlog of `day` is counted: 01:00 Nairobi on the next day (after the 00:30 daily close)."""
    return day_start_utc(day + timedelta(days=1)) + BACKLOG_GRACE


def previous_nairobi_day(moment: datetime) -> date:
    """The Nairobi day before the one `moment` falls on: what a run just after midnight should target."""
    return nairobi_date(moment) - timedelta(days=1)


def last_nairobi_days(count: int, moment: datetime) -> tuple[date, date]:
    """First and last of the `count` Nairobi days ending with the day `moment` falls on (today, for now)."""
    last = nairobi_date(moment)
    return last - timedelta(days=count - 1), last


def nairobi_days(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def format_etims_datetime(moment: datetime) -> str:
    """yyyyMMddHHmmss in Nairobi time (cfmDt, rcptPbctDt, lastReqDt)."""
    return to_nairobi(moment).strftime(ETIMS_DATETIME_FORMAT)


def format_etims_date(moment: datetime) -> str:
    """yyyyMMdd of the Nairobi day (salesDt)."""
    return to_nairobi(moment).strftime(ETIMS_DATE_FORMAT)


def parse_etims_compact_datetime(text: str) -> datetime:
    """Only the request form yyyyMMddHHmmss (cfmDt, rcptPbctDt, ...), as Nairobi time; returns aware UTC."""
    if not _COMPACT_DATETIME.fullmatch(text):
        raise ValueError(f"not an eTIMS datetime: {text!r} (expected yyyyMMddHHmmss)")
    try:
        local = datetime.strptime(text, ETIMS_DATETIME_FORMAT)
    except ValueError:
        raise ValueError(f"not an eTIMS datetime: {text!r} (expected yyyyMMddHHmmss)") from None
    return local.replace(tzinfo=NAIROBI).astimezone(UTC)


def parse_etims_datetime(text: str) -> datetime:
    """Parse an eTIMS timestamp in either format it uses; returns an aware UTC datetime."""
    cleaned = text.strip()
    try:
        return parse_etims_compact_datetime(cleaned)
    except ValueError:
        pass
    for fmt in _LOOKUP_DATETIME_FORMATS:
        try:
            local = datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=NAIROBI).astimezone(UTC)
    raise ValueError(f"not an eTIMS datetime: {text!r} (expected yyyyMMddHHmmss or YYYY-MM-DD HH:MM:SS)")


def parse_etims_date(text: str) -> date:
    cleaned = text.strip()
    if not _COMPACT_DATE.fullmatch(cleaned):
        raise ValueError(f"not an eTIMS date: {text!r} (expected yyyyMMdd)")
    return datetime.strptime(cleaned, ETIMS_DATE_FORMAT).date()


def partition_key(day: date) -> str:
    return day.strftime(PARTITION_KEY_FORMAT)


def parse_partition_key(key: str) -> date:
    return datetime.strptime(key, PARTITION_KEY_FORMAT).date()
