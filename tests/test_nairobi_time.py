"""Africa/Nairobi (UTC+3) rules: aware instants only, Nairobi days, both eTIMS formats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from etims_pipeline.nairobi_time import (
    NAIROBI,
    NaiveDatetimeError,
    day_bounds_utc,
    day_start_utc,
    format_etims_date,
    format_etims_datetime,
    nairobi_date,
    nairobi_days,
    parse_etims_date,
    parse_etims_datetime,
    parse_partition_key,
    partition_key,
    previous_nairobi_day,
    require_aware,
    to_nairobi,
    to_utc,
)

NAIVE = datetime(2026, 11, 23, 22, 30)


@pytest.mark.parametrize(
    "convert",
    [
        require_aware,
        to_nairobi,
        to_utc,
        nairobi_date,
        previous_nairobi_day,
        format_etims_datetime,
        format_etims_date,
    ],
)
def test_naive_datetimes_are_rejected(convert: Callable[[datetime], object]) -> None:
    with pytest.raises(NaiveDatetimeError, match=r"2026-11-23T22:30:00 has no UTC offset"):
        convert(NAIVE)


def test_naive_error_is_a_value_error() -> None:
    assert issubclass(NaiveDatetimeError, ValueError)


def test_nairobi_is_utc_plus_three_all_year() -> None:
    for month in range(1, 13):
        moment = datetime(2026, month, 15, 12, tzinfo=UTC)
        assert to_nairobi(moment).utcoffset() == timedelta(hours=3)
        assert to_nairobi(moment).hour == 15


def test_conversions_keep_the_instant() -> None:
    moment = datetime(2026, 11, 24, 1, 30, tzinfo=NAIROBI)
    assert to_utc(moment) == datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    assert to_utc(moment).tzinfo is UTC
    assert to_nairobi(to_utc(moment)) == moment
    plus_one = datetime(2026, 11, 23, 23, 30, tzinfo=timezone(timedelta(hours=1)))
    assert format_etims_datetime(plus_one) == "20261124013000"


@pytest.mark.parametrize(
    ("utc_moment", "day"),
    [
        (datetime(2026, 11, 23, 20, 59, 59, 999999, tzinfo=UTC), date(2026, 11, 23)),  # 23:59:59.999 Nairobi
        (datetime(2026, 11, 23, 21, 0, tzinfo=UTC), date(2026, 11, 24)),  # 00:00 Nairobi
        (datetime(2026, 11, 23, 22, 30, tzinfo=UTC), date(2026, 11, 24)),
        (datetime(2026, 11, 23, 0, 0, tzinfo=UTC), date(2026, 11, 23)),
        (datetime(2026, 12, 31, 21, 0, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_nairobi_date_of_an_instant(utc_moment: datetime, day: date) -> None:
    assert nairobi_date(utc_moment) == day
    assert format_etims_date(utc_moment) == day.strftime("%Y%m%d")


def test_2359_and_0000_nairobi_fall_on_different_days() -> None:
    before = datetime(2026, 11, 23, 23, 59, tzinfo=NAIROBI)
    after = datetime(2026, 11, 24, 0, 0, tzinfo=NAIROBI)
    assert after - before == timedelta(minutes=1)
    assert nairobi_date(before) == date(2026, 11, 23)
    assert nairobi_date(after) == date(2026, 11, 24)
    assert format_etims_datetime(before) == "20261123235900"
    assert format_etims_datetime(after) == "20261124000000"


def test_etims_formats_are_nairobi_local() -> None:
    moment = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    assert format_etims_datetime(moment) == "20261124013000"
    assert format_etims_date(moment) == "20261124"


def test_day_start_is_2100_utc_the_evening_before() -> None:
    assert day_start_utc(date(2026, 11, 24)) == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)


def test_day_bounds_for_one_day() -> None:
    start, end = day_bounds_utc(date(2026, 11, 24))
    assert start == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


def test_day_bounds_for_a_range_are_half_open() -> None:
    start, end = day_bounds_utc(date(2026, 11, 1), date(2026, 11, 30))
    assert start == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    inside = end - timedelta(microseconds=1)
    assert start <= inside < end
    assert nairobi_date(inside) == date(2026, 11, 30)
    assert nairobi_date(end) == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("utc_moment", "target"),
    [
        (datetime(2026, 11, 23, 20, 59, 59, tzinfo=UTC), date(2026, 11, 22)),  # 23:59:59 on the 23rd
        (datetime(2026, 11, 23, 21, 0, tzinfo=UTC), date(2026, 11, 23)),  # midnight into the 24th
        (datetime(2026, 11, 23, 21, 30, tzinfo=UTC), date(2026, 11, 23)),  # the 00:30 KPI run
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), date(2026, 12, 31)),
    ],
)
def test_previous_nairobi_day(utc_moment: datetime, target: date) -> None:
    assert previous_nairobi_day(utc_moment) == target


def test_nairobi_days_is_inclusive() -> None:
    assert nairobi_days(date(2026, 2, 27), date(2026, 3, 2)) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
        date(2026, 3, 2),
    ]
    assert nairobi_days(date(2026, 3, 2), date(2026, 3, 2)) == [date(2026, 3, 2)]
    assert nairobi_days(date(2026, 3, 2), date(2026, 3, 1)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20261124013000", datetime(2026, 11, 23, 22, 30, tzinfo=UTC)),
        (" 20261124013000 ", datetime(2026, 11, 23, 22, 30, tzinfo=UTC)),
        ("20261124000000", datetime(2026, 11, 23, 21, 0, tzinfo=UTC)),
        ("2026-11-24 01:30:00.250000", datetime(2026, 11, 23, 22, 30, 0, 250000, tzinfo=UTC)),
        ("2026-11-24 01:30:00.5", datetime(2026, 11, 23, 22, 30, 0, 500000, tzinfo=UTC)),
        ("2026-11-24 01:30:00", datetime(2026, 11, 23, 22, 30, tzinfo=UTC)),
    ],
)
def test_parse_etims_datetime_both_formats_to_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_etims_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_format_and_parse_round_trip() -> None:
    moment = datetime(2026, 11, 23, 22, 30, 15, tzinfo=UTC)
    assert parse_etims_datetime(format_etims_datetime(moment)) == moment


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not a date",
        "20261324013000",  # month 13
        "20261124250000",  # hour 25
        "2026-11-24T01:30:00",
        "2026/11/24 01:30:00",
        "20261124",
        "2026112401300000",
    ],
)
def test_parse_etims_datetime_rejects_garbage_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match="not an eTIMS datetime") as caught:
        parse_etims_datetime(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "202611240130",  # seconds missing: parsed today as 01:03:00 Nairobi on 24 Nov
        "20261124130",  # also 01:03:00
        "2026112411",  # parsed as 2026-11-02 04:01:01 Nairobi
    ],
)
def test_parse_etims_datetime_rejects_truncated_compact_timestamps(text: str) -> None:
    # BUG: `datetime.strptime(text, "%Y%m%d%H%M%S")` accepts 1-digit fields, so a short string parses into a
    # different instant instead of raising.
    with pytest.raises(ValueError, match="not an eTIMS datetime"):
        parse_etims_datetime(text)


@pytest.mark.parametrize(("text", "expected"), [("20261124", date(2026, 11, 24)), (" 20260101\n", date(2026, 1, 1))])
def test_parse_etims_date(text: str, expected: date) -> None:
    assert parse_etims_date(text) == expected


@pytest.mark.parametrize("text", ["", "2026-11-24", "20261324", "20261131", "abcdefgh", "2026112401"])
def test_parse_etims_date_rejects_garbage(text: str) -> None:
    # strptime's own messages today; a length check up front may word it as "not an eTIMS date".
    with pytest.raises(ValueError, match=r"does not match format|unconverted data|out of range|not an eTIMS date"):
        parse_etims_date(text)


@pytest.mark.parametrize("text", ["2026111", "202611"])
def test_parse_etims_date_rejects_truncated_dates(text: str) -> None:
    # BUG: same strptime leniency; "202611" parses as 2026-01-01 and "2026111" as 2026-11-01.
    with pytest.raises(ValueError, match=text):
        parse_etims_date(text)


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 11, 24), date(2024, 2, 29)])
def test_partition_keys_round_trip(day: date) -> None:
    key = partition_key(day)
    assert key == day.isoformat()
    assert parse_partition_key(key) == day


@pytest.mark.parametrize("key", ["20261124", "2026-13-01", "nope"])
def test_bad_partition_keys_raise(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        parse_partition_key(key)
