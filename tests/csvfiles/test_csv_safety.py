"""The formula guard on its own: every trigger neutralised, `restore` its exact inverse, and
nothing else touched (a value that merely starts with an apostrophe or a letter)."""

from __future__ import annotations

import pytest

from crm.csvfiles.safety import neutralise, restore

TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("first", TRIGGERS + ["'"])
def test_each_trigger_gets_one_apostrophe_and_comes_back(first: str) -> None:
    value = first + "1+2"
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value


@pytest.mark.parametrize("value", ["", "'", "''", "'X", "'Xavier", "X'", "Dupont", "1-2", " =1", "é=1"])
def test_other_values_are_left_as_they_are(value: str) -> None:
    if not value.startswith("'"):
        assert neutralise(value) == value
    assert restore(neutralise(value)) == value
    if value in ("'", "'X", "'Xavier"):  # an apostrophe before a non-trigger is the value's own
        assert restore(value) == value
