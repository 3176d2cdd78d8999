"""The Throttle form's values (core.control.validate_limits): every value DTS's documented range refuses comes back
as an error on its own field; nothing raises (the form's submission must answer with `errors`)."""

from __future__ import annotations

import pytest

from core.control import validate_limits


@pytest.mark.parametrize("raw", ["²", "1²", "٣٠٠", "-1", "1.5", "1e3", "0", "17"])
def test_a_value_outside_the_range_or_not_a_whole_number_names_its_field(raw):
    wanted, errors = validate_limits({"DumpThread": raw})
    assert not wanted and set(errors) == {"DumpThread"}, raw


def test_values_in_range_are_taken():
    assert validate_limits({"DumpThread": "16", "DumpRps": "50,000,000", "SinkerThread": " 128 "}) == (
        {"DumpThread": 16, "DumpRps": 50_000_000, "SinkerThread": 128}, {})
