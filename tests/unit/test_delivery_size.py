"""The coordinator refuses, before sending, a delivery the contract would revert as too long."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelpact.round.chain_delivery import (
    MAX_DELIVERY_BYTES,
    DeliveryProblemError,
    check_delivery_size,
)

ROOT = Path(__file__).resolve().parents[2]


def test_bound_mirrors_the_contract() -> None:
    """The Python bound is RoundCore's MAX_DELIVERY_BYTES, digit for digit."""
    src = (ROOT / "contracts" / "src" / "RoundCore.sol").read_text()
    found = re.search(r"MAX_DELIVERY_BYTES = ([0-9_]+);", src)
    assert found is not None
    assert int(found.group(1).replace("_", "")) == MAX_DELIVERY_BYTES == 131_072


def test_at_the_bound_passes_and_one_byte_over_is_refused_in_one_line() -> None:
    """A model of exactly the bound is sent; one byte more is refused naming the bound and fix."""
    check_delivery_size(size=MAX_DELIVERY_BYTES, model="0xab")
    with pytest.raises(DeliveryProblemError) as err:
        check_delivery_size(size=MAX_DELIVERY_BYTES + 1, model="0xab")
    text, hint = str(err.value), str(err.value.hint)
    assert "\n" not in text + hint
    assert "MAX_DELIVERY_BYTES (131072)" in text
    assert "131073 bytes" in text
    assert "nothing was sent" in hint
    assert "smaller model" in hint
