"""The period value object: the GUIDELINE's period grammar (§6), read, written and compared."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chiso_shared.periods import Period, PeriodError

VALID = [
    "2023",
    "2023-S1",
    "2023-S2",
    "2023-Q1",
    "2023-Q4",
    "2023-01",
    "2023-11",
    "2023-12",
    "2023-12-20",
    "2024-02-29",
    "0001",
    "9999-12-31",
    "2021-12/2023-11",
    "2023-01/2023-11",
    "2023-01/2023-01",
    "2023/2024",
    "2022-Q4/2023-Q1",
    "2023-S1/2023-S2",
    "2023-12-20/2024",
]

INVALID = [
    "",
    "23",
    "202",
    "20231",
    "2023-",
    "2023-13",
    "2023-00",
    "2023-1",
    "2023-Q0",
    "2023-Q5",
    "2023-S0",
    "2023-S3",
    "2023-H1",
    "2023-02-30",
    "2023-02-29",
    "2023-11-31",
    "2023-11-32",
    "2023-11-00",
    "2023-11-1",
    "0000",
    "2024/2023",
    "2023-11/2023-10",
    "2023/2023-06",
    "2023-06/2023",
    "2023/2024/2025",
    "2023/",
    "/2023",
    "2023//2024",
    " 2023",
    "2023 ",
    "2023\n",
    "2023Q1",
    "202311",
    "２０２３",
    "٢٠٢٣",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_periods_round_trip(text: str) -> None:
    period = Period.parse(text)
    assert str(period) == text
    assert Period.try_parse(text) == period
    assert repr(period) == f"Period({text!r})"


@pytest.mark.parametrize("text", INVALID)
def test_off_grammar_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="không hợp lệ") as raised:
        Period.parse(text)
    assert isinstance(raised.value, PeriodError)
    assert repr(text) in str(raised.value) and "is not valid" in str(raised.value)
    assert Period.try_parse(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023-13", "there is no month 13"),
        ("2023-Q5", "there is no quarter 5"),
        ("2023-S3", "there is no half-year 3"),
        ("2023-02-30", "there is no day 30 in 2023-02"),
        ("2024/2023", "ends with a period that starts or ends before its first"),
        ("2023/2024/2025", "it is not 2023, 2023-S1"),
    ],
)
def test_the_message_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(PeriodError, match=reason):
        Period.parse(text)


@st.composite
def singles(draw: st.DrawFn) -> Period:
    year = draw(st.integers(1, 9999))
    kind = draw(st.sampled_from("ASQMD"))
    if kind == "A":
        return Period.annual(year)
    if kind == "S":
        return Period.half(year, draw(st.integers(1, 2)))
    if kind == "Q":
        return Period.quarter(year, draw(st.integers(1, 4)))
    if kind == "M":
        return Period.month(year, draw(st.integers(1, 12)))
    day = draw(st.dates(date(year, 1, 1), date(year, 12, 31)))
    return Period.day(day.year, day.month, day.day)


@st.composite
def periods(draw: st.DrawFn) -> Period:
    first = draw(singles())
    if not draw(st.booleans()):
        return first
    last = draw(singles())
    if last.start < first.start or last.end < first.end:
        first, last = last, first
    if last.start < first.start or last.end < first.end:
        return first  # the two overlap both ways (2023 and 2023-Q2): no span of them
    return Period.span(first, last)


@given(periods())
def test_every_period_round_trips_through_its_text(period: Period) -> None:
    text = str(period)
    assert Period.parse(text) == period
    assert hash(Period.parse(text)) == hash(period)
    assert str(Period.parse(text)) == text
    assert period.start <= period.end


@given(st.text(alphabet="0123456789-/SQ", max_size=16))
def test_any_text_parses_to_itself_or_is_refused(text: str) -> None:
    period = Period.try_parse(text)
    assert period is None or str(period) == text


@pytest.mark.parametrize(
    ("text", "start", "end", "frequency"),
    [
        ("2023", "2023-01-01", "2023-12-31", "A"),
        ("2023-S1", "2023-01-01", "2023-06-30", "S"),
        ("2023-S2", "2023-07-01", "2023-12-31", "S"),
        ("2023-Q1", "2023-01-01", "2023-03-31", "Q"),
        ("2023-Q3", "2023-07-01", "2023-09-30", "Q"),
        ("2023-Q4", "2023-10-01", "2023-12-31", "Q"),
        ("2023-11", "2023-11-01", "2023-11-30", "M"),
        ("2023-02", "2023-02-01", "2023-02-28", "M"),
        ("2024-02", "2024-02-01", "2024-02-29", "M"),
        ("1900-02", "1900-02-01", "1900-02-28", "M"),
        ("2000-02", "2000-02-01", "2000-02-29", "M"),
        ("2023-12-20", "2023-12-20", "2023-12-20", "D"),
        ("2021-12/2023-11", "2021-12-01", "2023-11-30", "X"),
        ("2023-01/2023-11", "2023-01-01", "2023-11-30", "X"),
        ("2023/2024", "2023-01-01", "2024-12-31", "X"),
        ("2023-01/2023-01", "2023-01-01", "2023-01-31", "X"),
    ],
)
def test_start_end_and_frequency(text: str, start: str, end: str, frequency: str) -> None:
    period = Period.parse(text)
    assert (period.start, period.end) == (date.fromisoformat(start), date.fromisoformat(end))
    assert period.frequency == frequency
    assert period.year == int(start[:4])
    assert period.is_span is (frequency == "X")


def test_constructors_build_the_texts_the_extractor_writes() -> None:
    assert str(Period.annual(2023)) == "2023"
    assert str(Period.half(2023, 2)) == "2023-S2"
    assert str(Period.quarter(2024, 1)) == "2024-Q1"
    assert str(Period.month(2023, 3)) == "2023-03"
    assert str(Period.day(2023, 12, 5)) == "2023-12-05"
    assert str(Period.months(2023, 1, 11)) == "2023-01/2023-11"
    assert str(Period.months(2023, 1, 1)) == "2023-01/2023-01"
    assert str(Period.years(2023, 2024)) == "2023/2024"
    span = Period.span(Period.month(2021, 12), Period.month(2023, 11))
    assert span == Period.parse("2021-12/2023-11")
    assert (span.first, span.last) == (Period.month(2021, 12), Period.month(2023, 11))
    assert Period.annual(2023).first == Period.annual(2023) == Period.annual(2023).last


@pytest.mark.parametrize(
    "build",
    [
        lambda: Period.annual(0),
        lambda: Period.annual(10000),
        lambda: Period.half(2023, 3),
        lambda: Period.quarter(2023, 0),
        lambda: Period.month(2023, 13),
        lambda: Period.day(2023, 2, 29),
        lambda: Period.months(2023, 11, 1),
        lambda: Period.years(2024, 2023),
        lambda: Period.span(Period.years(2023, 2024), Period.annual(2025)),
        lambda: Period(date(2023, 1, 2), date(2023, 1, 31), "M"),
        lambda: Period(date(2023, 1, 1), date(2023, 2, 28), "M"),
        lambda: Period(date(2023, 1, 1), date(2023, 12, 31), "X"),
    ],
)
def test_constructors_refuse_what_is_no_period(build: object) -> None:
    assert callable(build)
    with pytest.raises(PeriodError):
        build()


@pytest.mark.parametrize(
    ("text", "following"),
    [
        ("2023", "2024"),
        ("2023-S1", "2023-S2"),
        ("2023-S2", "2024-S1"),
        ("2023-Q3", "2023-Q4"),
        ("2023-Q4", "2024-Q1"),
        ("2023-11", "2023-12"),
        ("2023-12", "2024-01"),
        ("2024-02-28", "2024-02-29"),
        ("2024-02-29", "2024-03-01"),
        ("2023-02-28", "2023-03-01"),
        ("2023-12-31", "2024-01-01"),
    ],
)
def test_next_and_previous_cross_year_ends(text: str, following: str) -> None:
    assert str(Period.parse(text).next()) == following
    assert str(Period.parse(following).previous()) == text


@pytest.mark.parametrize("text", ["2023-01/2023-11", "2023/2024"])
def test_a_span_has_no_next_or_previous(text: str) -> None:
    with pytest.raises(PeriodError, match="no previous or next"):
        Period.parse(text).next()
    with pytest.raises(PeriodError, match="no previous or next"):
        Period.parse(text).previous()


def test_no_next_period_past_year_9999() -> None:
    with pytest.raises(PeriodError, match="10000"):
        Period.annual(9999).next()
    with pytest.raises(PeriodError, match="10000"):
        Period.day(9999, 12, 31).next()
    with pytest.raises(PeriodError, match="Year 0 is outside"):
        Period.month(1, 1).previous()


@given(singles())
def test_next_starts_the_day_after_the_end(period: Period) -> None:
    if period.end.year == 9999 and period.end.month == 12 and period.end.day == 31:
        return
    following = period.next()
    assert following.start.toordinal() == period.end.toordinal() + 1
    assert following.frequency == period.frequency
    assert following.previous() == period


def test_order_is_by_start_then_end() -> None:
    texts = ["2023", "2023-01/2023-12", "2022-12", "2023-Q1", "2023-01", "2023-12-20", "2022"]
    ordered = sorted(Period.parse(text) for text in texts)
    assert [str(p) for p in ordered] == [
        "2022",
        "2022-12",
        "2023-01",
        "2023-Q1",
        "2023",  # a single period before the span of the same days
        "2023-01/2023-12",
        "2023-12-20",
    ]
    assert Period.parse("2023-S2") > Period.parse("2023-S1")
    assert Period.parse("2023-S2") >= Period.parse("2023-S2")
    assert max(map(Period.parse, ["2023-11", "2023-Q4", "2023-S2"])) == Period.parse("2023-11")


@given(periods(), periods())
def test_order_is_total_and_agrees_with_equality(a: Period, b: Period) -> None:
    assert (a < b) + (a == b) + (a > b) == 1
    assert (a == b) == (str(a) == str(b))
    if a.start < b.start:
        assert a < b


def test_contains() -> None:
    year = Period.parse("2023")
    assert year.contains(Period.parse("2023-Q2"))
    assert year.contains(year)
    assert Period.parse("2023-11") in year
    assert Period.parse("2023-01/2023-11") in year
    assert date(2023, 12, 31) in year
    assert date(2024, 1, 1) not in year
    assert Period.parse("2023-11/2024-01") not in Period.parse("2023-Q4")
    assert Period.parse("2023-Q4") not in Period.parse("2023-11/2024-01")
    assert Period.parse("2023-12-20") in Period.parse("2021-12/2023-12")
    assert "2023" not in year


@pytest.mark.parametrize(
    ("text", "than", "after"),
    [
        ("2024", "2023", True),
        ("2024-Q1", "2023", True),
        ("2023-12", "2023", False),  # they share December
        ("2023-S2", "2023-S1", True),
        ("2023-S2", "2023-Q3", False),
        ("2023-Q3", "2023-S1", True),
        ("2023-07", "2023-01/2023-06", True),
        ("2023-06", "2023-01/2023-06", False),
        ("2024/2025", "2023-01/2023-11", True),
        ("2023-12-21", "2023-12-20", True),
        ("2023-12-20", "2023-12-20", False),
        ("2023", "2024", False),
    ],
)
def test_starts_after(text: str, than: str, after: bool) -> None:
    assert Period.parse(text).starts_after(Period.parse(than)) is after


@pytest.mark.parametrize(
    ("text", "dhis2"),
    [
        ("2023", "2023"),
        ("2023-S1", "2023S1"),
        ("2023-Q1", "2023Q1"),
        ("2023-11", "202311"),
        ("2023-12-20", "20231220"),
    ],
)
def test_dhis2_forms_round_trip(text: str, dhis2: str) -> None:
    assert Period.parse(text).to_dhis2() == dhis2
    assert Period.from_dhis2(dhis2) == Period.parse(text)


@pytest.mark.parametrize("text", ["2023-01/2023-11", "2023/2024"])
def test_a_span_has_no_dhis2_form(text: str) -> None:
    assert Period.parse(text).to_dhis2() is None


@pytest.mark.parametrize(
    "dhis2", ["2023-Q1", "2023Q5", "2023S3", "202313", "20230230", "2023W1", "23", "", "2023\n"]
)
def test_off_grammar_dhis2_periods_are_refused(dhis2: str) -> None:
    with pytest.raises(PeriodError, match="DHIS2"):
        Period.from_dhis2(dhis2)


@given(singles())
def test_every_single_period_round_trips_through_dhis2(period: Period) -> None:
    dhis2 = period.to_dhis2()
    assert dhis2 is not None and "-" not in dhis2
    assert Period.from_dhis2(dhis2) == period


@pytest.mark.parametrize(
    ("text", "year", "moved"),
    [
        ("2023-11", 2022, "2022-11"),
        ("2023", 2021, "2021"),
        ("2024-Q1", 2023, "2023-Q1"),
        ("2023-S2", 2022, "2022-S2"),
        ("2023-12-20", 2022, "2022-12-20"),
        ("2023-01/2023-11", 2022, "2022-01/2022-11"),
        ("2021-12/2023-11", 2020, "2020-12/2022-11"),
    ],
)
def test_in_year_is_the_same_part_of_another_year(text: str, year: int, moved: str) -> None:
    assert str(Period.parse(text).in_year(year)) == moved


def test_in_year_refuses_a_day_the_year_lacks() -> None:
    with pytest.raises(PeriodError):
        Period.parse("2024-02-29").in_year(2023)
