"""Quantities, ranges and cells as EMC tables print them (agent.match.units)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.match.formula import parse_formula, tidy_formula
from agent.match.units import (
    Quantity,
    Range,
    format_quantity,
    format_range,
    normalise_unit,
    parse_cell,
    parse_quantity,
    parse_range,
    unit_in_label,
)

MHZ = "MHz"


@pytest.mark.parametrize(
    "variant, canonical",
    [
        ("dBµV", "dBµV"), ("dB(µV)", "dBµV"), ("dBuV", "dBµV"), ("dBμV", "dBµV"), ("dB(μV)", "dBµV"),
        ("dBµA", "dBµA"), ("dB(µA)", "dBµA"), ("dBµV/m", "dBµV/m"), ("dB(µV/m)", "dBµV/m"),
        ("dB(µA/m)", "dBµA/m"), ("V/m", "V/m"), ("A/m", "A/m"), ("mA", "mA"), ("A", "A"),
        ("kV", "kV"), ("KV", "kV"), ("V", "V"), ("µs", "µs"), ("μs", "µs"), ("ms", "ms"), ("ns", "ns"),
        ("W", "W"), ("dB", "dB"), ("%", "%"), ("Ω", "Ω"), ("\u2126", "Ω"), ("ohm", "Ω"),
        ("Hz", "Hz"), ("kHz", "kHz"), ("KHz", "kHz"), ("MHz", "MHz"), ("MHZ", "MHz"), ("GHz", "GHz"),
        ("sec", "s"), ("sec/MHz", "s/MHz"),
    ],
)
def test_unit_variants_fold_to_one_spelling(variant: str, canonical: str) -> None:
    assert normalise_unit(variant) == canonical


def test_greek_mu_and_micro_sign_are_one_unit() -> None:
    assert parse_quantity("40 dB\u03bcV") == parse_quantity("40 dB\u00b5V") == Quantity(40.0, "dB\u00b5V")


@pytest.mark.parametrize(
    "text, value, unit",
    [("100 kHz", 100.0, "kHz"), ("0.28", 0.28, ""), ("-15", -15.0, ""), ("50mm", 50.0, "mm"),
     ("1,000 Hz", 1000.0, "Hz"), ("10 Ω", 10.0, "Ω"), ("3 dB(µA)", 3.0, "dBµA"), ("100 kHz¹", 100.0, "kHz")],
)
def test_parse_quantity(text: str, value: float, unit: str) -> None:
    assert parse_quantity(text) == Quantity(value, unit)


def test_quantity_converts_frequencies_and_refuses_other_dimensions() -> None:
    assert Quantity(100, "MHz").to("kHz") == Quantity(100000.0, "kHz")
    assert Quantity(1.5, "GHz").to("MHz") == Quantity(1500.0, "MHz")
    assert Quantity(8, "kV").to("V") == Quantity(8000.0, "V")
    with pytest.raises(ValueError):
        Quantity(1, "MHz").to("V")


@pytest.mark.parametrize(
    "text, default, low, high",
    [
        ("0.28~30", MHZ, Quantity(0.28, MHZ), Quantity(30, MHZ)),
        ("30 MHz - 1 GHz", None, Quantity(30, MHZ), Quantity(1, "GHz")),
        ("30 - 200 MHz", None, Quantity(30, MHZ), Quantity(200, MHZ)),
        ("150 kHz to 10 MHz", None, Quantity(150, "kHz"), Quantity(10, MHZ)),
        ("10 kHz \u2013 200 MHz", None, Quantity(10, "kHz"), Quantity(200, MHZ)),
        ("10 kHz \u2014 200 MHz", None, Quantity(10, "kHz"), Quantity(200, MHZ)),
        ("10 \u2212 20 MHz", None, Quantity(10, MHZ), Quantity(20, MHZ)),
        ("1-400 MHz", None, Quantity(1, MHZ), Quantity(400, MHZ)),
        ("30 MHz - 200", None, Quantity(30, MHZ), Quantity(200, MHZ)),
        ("84.015~87.255", None, Quantity(84.015, ""), Quantity(87.255, "")),
        ("300 - 400", MHZ, Quantity(300, MHZ), Quantity(400, MHZ)),
    ],
)
def test_parse_closed_ranges(text: str, default: str | None, low: Quantity, high: Quantity) -> None:
    assert parse_range(text, default) == Range(low, high, True, True)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Above 1 GHz", Range(Quantity(1, "GHz"), None, False, True)),
        (">= 1 GHz", Range(Quantity(1, "GHz"), None, True, True)),
        ("\u2265 1 GHz", Range(Quantity(1, "GHz"), None, True, True)),
        ("\u2264 30 MHz", Range(None, Quantity(30, MHZ), True, True)),
        ("< 30 MHz", Range(None, Quantity(30, MHZ), True, False)),
        ("Above 600", Range(Quantity(600, MHZ), None, False, True)),
    ],
)
def test_parse_open_ranges(text: str, expected: Range) -> None:
    assert parse_range(text, MHZ) == expected


def test_range_contains_across_units_and_respects_open_ends() -> None:
    band = parse_range("30 MHz - 1 GHz")
    assert band is not None
    assert band.contains(Quantity(100, MHZ)) is True
    assert band.contains(Quantity(1000, MHZ)) is True
    assert band.contains(Quantity(29.9, MHZ)) is False
    assert band.contains(Quantity(3, "kV")) is False
    above = parse_range("Above 1 GHz")
    assert above is not None and above.contains(Quantity(1, "GHz")) is False
    assert above.contains(Quantity(1001, MHZ)) is True


def test_plus_minus_values() -> None:
    a, b = parse_cell("\u00b18 kV"), parse_cell("+/- 15 kV")
    assert (a.kind, a.value, a.plus_minus) == ("value", Quantity(8, "kV"), True)
    assert (b.kind, b.value, b.plus_minus) == ("value", Quantity(15, "kV"), True)
    c = parse_cell("\u00b18", column_unit="kV")
    assert (c.kind, c.value, c.plus_minus) == ("value", Quantity(8, "kV"), True)


@pytest.mark.parametrize(
    "text, value, marks",
    [("100 kHz\u00b9", Quantity(100, "kHz"), ("1",)), ("62*", Quantity(62, ""), ("*",)),
     ("100 kHz (a)", Quantity(100, "kHz"), ("a",)), ("10 kHz 2/", Quantity(10, "kHz"), ("2",))],
)
def test_footnote_marks_are_split_off(text: str, value: Quantity, marks: tuple[str, ...]) -> None:
    cell = parse_cell(text)
    assert (cell.kind, cell.value, cell.footnotes) == ("value", value, marks)


@pytest.mark.parametrize("text", ["", "-", "\u2013", "\u2014", "\u2212", "N/A", "n/a", "  "])
def test_dashes_and_na_alone_are_empty(text: str) -> None:
    assert parse_cell(text).kind == "empty"


def test_column_unit_applies_to_bare_numbers_only() -> None:
    assert parse_cell("72", column_unit="dBµV").value == Quantity(72, "dBµV")
    assert parse_cell("100 kHz", column_unit="MHz").value == Quantity(100, "kHz")
    assert parse_cell("0.28~30", column_unit="MHz").range == Range(Quantity(0.28, MHZ), Quantity(30, MHZ))


def test_text_cells_keep_their_text_without_footnotes() -> None:
    cell = parse_cell("68 \u2013 25.13 \u00b7 lg(f/30) 1)")
    assert (cell.kind, cell.text, cell.footnotes) == ("text", "68 \u2013 25.13 \u00b7 lg(f/30)", ("1",))
    assert parse_cell("Contact/Air").kind == "text"
    assert parse_cell("4 SW75m").kind == "text"


@pytest.mark.parametrize(
    "label, unit",
    [("Frequency (MHz)", "MHz"), ("Frequency(MHz)", "MHz"), ("Frequency MHz", "MHz"),
     ("PK Limits dB(µV)", "dBµV"), ("QP Bandwidth KHz", "kHz"), ("Test Voltage (kV)", "kV"),
     ("Field strength (V/m)", "V/m"), ("Residence time (s)", "s"), ("Tuner Positions", None),
     ("6 dB Resolution Bandwidth", None)],
)
def test_unit_named_by_a_column_label(label: str, unit: str | None) -> None:
    assert unit_in_label(label) == unit


def test_log_formula_parses_and_evaluates() -> None:
    f = parse_formula("68 \u2013 25.13 \u00b7 lg(f/30)")
    assert f is not None
    assert (f.text, f.intercept, f.slope, f.reference) == ("68 \u2013 25.13\u00b7lg(f/30)", 68.0, -25.13, 30.0)
    assert round(f.evaluate(50), 1) == round(68 - 25.13 * math.log10(50 / 30), 1) == 62.4
    assert tidy_formula("58 +15.13 \u00b7 lg( f / 75 )") == "58 + 15.13\u00b7lg(f/75)"
    assert parse_formula("Contact/Air") is None


# ---------------------------------------------------------------- properties
_UNITS = ["Hz", "kHz", "MHz", "GHz", "dBµV", "dBµA", "dBµV/m", "V/m", "mA", "A", "kV", "V", "µs", "ns", "dB", "%", ""]
_values = st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False, allow_infinity=False).map(float)


@given(value=_values, unit=st.sampled_from(_UNITS))
def test_format_then_parse_a_quantity_round_trips(value: float, unit: str) -> None:
    q = Quantity(value, unit)
    back = parse_quantity(format_quantity(q))
    assert back is not None and back.unit == q.unit and math.isclose(back.value, q.value)


@given(low=_values, width=_values, unit=st.sampled_from(_UNITS[:4] + ["kV", "V/m"]))
def test_format_then_parse_a_range_round_trips(low: float, width: float, unit: str) -> None:
    r = Range(Quantity(low, unit), Quantity(low + width, unit))
    back = parse_range(format_range(r))
    assert back is not None and back.low is not None and back.high is not None
    assert (back.low.unit, back.high.unit) == (unit, unit)
    assert math.isclose(back.low.value, low) and math.isclose(back.high.value, low + width)


@given(value=_values, unit=st.sampled_from(_UNITS[:4]), inclusive=st.booleans(), side=st.sampled_from(["low", "high"]))
def test_format_then_parse_an_open_range_round_trips(value: float, unit: str, inclusive: bool, side: str) -> None:
    q = Quantity(value, unit)
    r = Range(q, None, inclusive, True) if side == "low" else Range(None, q, True, inclusive)
    assert parse_range(format_range(r)) == r


@settings(max_examples=300)
@given(text=st.text())
def test_parsing_never_raises_on_arbitrary_text(text: str) -> None:
    cell = parse_cell(text)
    assert cell.kind in ("value", "range", "empty", "text")
    assert cell.raw == text
    parse_quantity(text)
    parse_range(text, "MHz")


@given(unit=st.one_of(st.sampled_from(_UNITS + ["dB(μV)", "KHz", "dBuA", "ohm", "sec/MHz"]), st.text(max_size=8)))
def test_unit_normalisation_is_idempotent(unit: str) -> None:
    once = normalise_unit(unit)
    assert normalise_unit(once) == once
