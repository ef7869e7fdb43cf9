"""Revert hints come from the contract's NatSpec, not from a hand-kept table.

Every custom error of ``IModelpactRound`` carries a ``Fix:`` sentence in its ``@dev``; the
compiler's devdoc output holds them, and ``modelpact/data/revert_hints.json`` (what
:class:`modelpact.chain.ContractRevertError` shows as its hint) must equal what the devdoc says.
After editing the NatSpec, regenerate the file with ``python tests/unit/test_revert_hints.py``
(and the README's bad-input table with ``python tests/cli/test_bad_inputs.py``).
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

from modelpact.chain.errors import HINTS_FILE, hints_from_devdoc, revert_hint

INTERFACE = ("contracts/src/interfaces/IModelpactRound.sol", "IModelpactRound")
ROUND = ("contracts/src/ModelpactRound.sol", "ModelpactRound")


@functools.cache
def _devdocs() -> dict[tuple[str, str], dict[str, Any]]:
    """The devdoc of the interface and of the round, from the pinned compiler."""
    import solcx

    from modelpact.compiler import collect_sources, find_solc, settings

    selection = {unit: {name: ["devdoc"]} for unit, name in (INTERFACE, ROUND)}
    standard_input = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in collect_sources().items()},
        "settings": {**settings(), "outputSelection": selection},
    }
    output = solcx.compile_standard(standard_input, solc_binary=find_solc())
    return {key: output["contracts"][key[0]][key[1]]["devdoc"] for key in (INTERFACE, ROUND)}


def generated() -> dict[str, str]:
    """The hints the compiled NatSpec gives, as the shipped file stores them."""
    return hints_from_devdoc(_devdocs()[ROUND])


def test_every_interface_error_has_a_fix_sentence() -> None:
    """Each custom error declared in IModelpactRound says in its @dev how to fix it."""
    errors = _devdocs()[INTERFACE]["errors"]
    missing = [
        sig
        for sig in errors
        if sig.split("(")[0] not in hints_from_devdoc({"errors": {sig: errors[sig]}})
    ]
    assert errors
    assert missing == []


def test_shipped_hints_equal_the_natspec() -> None:
    """modelpact/data/revert_hints.json is exactly what the devdoc output gives, and a revert's
    hint is read from it."""
    shipped = json.loads(HINTS_FILE.read_text(encoding="utf-8"))
    assert shipped == generated()
    assert revert_hint("WrongBond") == shipped["WrongBond"]


if __name__ == "__main__":  # pragma: no cover - regenerate the shipped hints
    HINTS_FILE.write_text(json.dumps(generated(), indent=2, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {HINTS_FILE}\n")
