"""Revert hints come from the contract's NatSpec, not from a hand-kept table.

Every custom error of ``IModelpactRound`` carries a ``Fix:`` sentence in its ``@dev``; the
compiler's devdoc output holds them, and ``modelpact/data/revert_hints.json`` (what
:class:`modelpact.chain.ContractRevertError` shows as its hint) must equal what the devdoc says.
After editing the NatSpec, regenerate the file with ``python tests/unit/test_revert_hints.py``
(and the README's bad-input table with ``python tests/cli/test_bad_inputs.py``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from modelpact.chain.errors import HINTS_FILE, hints_from_devdoc, revert_hint

INTERFACE = Path(__file__).resolve().parents[2] / "contracts/src/interfaces/IModelpactRound.sol"


def _devdoc() -> dict[str, Any]:
    """The round's devdoc, from the solc metadata of the project's build (cached by the
    compiler: the same build deployment and the audit use)."""
    from modelpact.compiler import ROUND_CONTRACT, build_contracts

    metadata = json.loads(build_contracts().metadata[ROUND_CONTRACT])
    devdoc: dict[str, Any] = metadata["output"]["devdoc"]
    return devdoc


def generated() -> dict[str, str]:
    """The hints the compiled NatSpec gives, as the shipped file stores them."""
    return hints_from_devdoc(_devdoc())


def test_every_interface_error_has_a_fix_sentence() -> None:
    """Each custom error declared in IModelpactRound says in its @dev how to fix it."""
    declared = re.findall(r"^\s*error (\w+)\(", INTERFACE.read_text(), flags=re.MULTILINE)
    assert len(declared) > 20
    assert sorted(set(declared) - set(generated())) == []


def test_shipped_hints_equal_the_natspec() -> None:
    """modelpact/data/revert_hints.json is exactly what the devdoc output gives, and a revert's
    hint is read from it."""
    shipped = json.loads(HINTS_FILE.read_text(encoding="utf-8"))
    assert shipped == generated()
    assert revert_hint("WrongBond") == shipped["WrongBond"]


if __name__ == "__main__":  # pragma: no cover - regenerate the shipped hints
    HINTS_FILE.write_text(json.dumps(generated(), indent=2, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {HINTS_FILE}\n")
