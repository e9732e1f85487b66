"""KRA PIN format rules: letter A/P, nine digits, a letter; normalisation; operator-facing problems."""

from __future__ import annotations

import pytest

from etims_pipeline.etims.pin import is_valid_kra_pin, normalize_pin, pin_problem


@pytest.mark.parametrize("pin", ["P051365947M", "A004416331M", "P000000001A", "A999999999Z"])
def test_well_formed_pins_are_valid(pin: str) -> None:
    assert is_valid_kra_pin(pin)
    assert pin_problem(pin) is None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("p051365947m", "P051365947M"),
        ("  P051365947M  ", "P051365947M"),
        ("\ta004416331m\n", "A004416331M"),
        (None, ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_pin_strips_and_uppercases(raw: str | None, normalised: str) -> None:
    assert normalize_pin(raw) == normalised


@pytest.mark.parametrize("pin", ["p051365947m", " P051365947M ", "a004416331m"])
def test_lowercase_and_padded_pins_are_accepted_after_normalisation(pin: str) -> None:
    # The code validates the normalised form: case and surrounding whitespace are forgiven, not rejected.
    assert is_valid_kra_pin(pin)
    assert pin_problem(pin) is None


@pytest.mark.parametrize(
    ("pin", "expected_fragment"),
    [
        (None, "KRA PIN is missing"),
        ("", "KRA PIN is missing"),
        ("    ", "KRA PIN is missing"),
        ("P05136594M", "has 10 characters; it needs 11"),
        ("P0513659477M", "has 12 characters; it needs 11"),
        ("B12345", "has 6 characters; it needs 11"),
        ("B051365947M", "must start with A (individual) or P (non-individual)"),
        ("1051365947M", "must start with A (individual) or P (non-individual)"),
        ("K051365947M", "must start with A (individual) or P (non-individual)"),
        ("PA51365947M", "must be a letter, 9 digits and a letter"),
        ("P05136594MM", "must be a letter, 9 digits and a letter"),
        ("P0513659471", "must be a letter, 9 digits and a letter"),
        ("P0513 5947M", "must be a letter, 9 digits and a letter"),
        ("P05136594-M", "must be a letter, 9 digits and a letter"),
    ],
)
def test_invalid_pins_are_rejected_with_an_actionable_problem(pin: str | None, expected_fragment: str) -> None:
    assert not is_valid_kra_pin(pin)
    problem = pin_problem(pin)
    assert problem is not None
    assert expected_fragment in problem


@pytest.mark.parametrize("pin", ["p05136594m", "b051365947m", "pa51365947m"])
def test_problem_quotes_the_normalised_pin(pin: str) -> None:
    problem = pin_problem(pin)
    assert problem is not None
    assert repr(pin.strip().upper()) in problem


@pytest.mark.parametrize(
    "pin",
    [None, "", "P051365947M", "p051365947m", "P05136594M", "B051365947M", "PA51365947M", "A004416331M", "x"],
)
def test_validity_and_problem_agree(pin: str | None) -> None:
    assert is_valid_kra_pin(pin) == (pin_problem(pin) is None)
