"""`fields.stored_email`: the send-time re-check of a stored address agrees with the full
validation on every address its fast path lets through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from crm import fields
from crm.errors import ValidationError

_LOCAL = st.text(alphabet=st.sampled_from("abcXYZ019.+-_'!~é@ \r\n\""), min_size=0, max_size=70)
_DOMAIN = st.lists(st.text(alphabet=st.sampled_from("abcz09-É_."), min_size=0, max_size=12), min_size=1, max_size=4).map(".".join)
_TLD = st.sampled_from(["org", "fr", "ma", "test", "localhost", "x", "Org", "co.uk", "onion", ""])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.emails(), st.builds(lambda lo, d, t: f"{lo}@{d}.{t}", _LOCAL, _DOMAIN, _TLD), st.text(max_size=40)))
def test_the_fast_path_accepts_only_what_full_validation_accepts_unchanged(address: str) -> None:
    try:
        full = fields.email(address)
    except ValidationError:
        full = None
    try:
        checked = fields.stored_email(address)
    except ValidationError:
        checked = None
    assert checked == full  # same verdict and same normalised address, fast path or not


@pytest.mark.parametrize("address", ["broken@@example.org", "a..b@example.org", "x@cluster.test", "a b@example.org",
                                     "a@example.org\r\nBcc: x@example.org", "no-at-sign.example.org"])
def test_stored_addresses_that_are_not_valid_are_refused(address: str) -> None:
    with pytest.raises(ValidationError):
        fields.stored_email(address)
