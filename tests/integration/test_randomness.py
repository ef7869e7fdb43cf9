"""Randomness: what a withholder, a copier and a last revealer can and cannot do (SECURITY.md).

Runs the real contract on the embedded chain; replays use chain snapshots (the backend's) so the
"with" and "without" runs share every secret, join order and posted tier.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from conftest import commitment, data_root, delivery_key, posted, stand_in_logs

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.security import (
    DEFAULT_WEI_PER_VALUE_UNIT,
    BondRuleError,
    bond_warning,
    minimum_participant_bond,
)

TIERS = (posted(b"low", 2 * 10**17), posted(b"mid", 5 * 10**17))
COLLECTIVE = 8 * 10**17
BOND = 10**17  # tests/integration/conftest.py (checked against the deployed config)
PHASE_SECONDS = 1000
RoundSetup = Any  # conftest.RoundSetup (conftest is not importable as a module)
Deploy = Callable[[ch.Chain], Any]


def _fee(chain: ch.Chain, tx_hash: str) -> int:
    receipt = chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])


def _joined_and_posted(deploy: Deploy) -> tuple[RoundSetup, dict[str, bytes]]:
    """A full round of 4 on the embedded chain, models posted, nobody revealed yet."""
    setup = deploy(ch.connect(chain="embedded"))
    assert setup.config.participant_bond == BOND
    secrets: dict[str, bytes] = {}
    for k, p in enumerate(setup.participants):
        address = p if isinstance(p, str) else p.address
        secrets[address] = enc.random_secret()
        option = k % len(setup.menu)
        setup.round.join(
            p,
            option_id=option,
            data_root=data_root(address, k),
            row_count=setup.menu[option].data_count,
            commitment=commitment(setup, address, secrets[address], k),
        )
    setup.round.reveal_coordinator(setup.coordinator, setup.coordinator_secret)
    setup.round.post_models(
        setup.coordinator,
        collective=posted(b"collective", COLLECTIVE),
        logs=stand_in_logs(len(TIERS)),
        tiers=TIERS,
    )
    return setup, secrets


def _opening(setup: RoundSetup, p: Any, secrets: dict[str, bytes]) -> dict[str, Any]:
    """reveal/claim arguments of participant ``p`` (its position in the setup)."""
    k = list(setup.participants).index(p)
    address = p if isinstance(p, str) else p.address
    return {
        "data_root": data_root(address, k),
        "secret": secrets[address],
        "delivery_key": delivery_key(k),
    }


def _play(setup: RoundSetup, secrets: dict[str, bytes], withholder: str | None) -> dict[str, Any]:
    """Everyone but ``withholder`` reveals and claims; returns rungs and balance deltas."""
    chain, rc = setup.chain, setup.round
    before = {a: chain.balance(a) for a in secrets}
    fees = dict.fromkeys(secrets, 0)
    for p in setup.participants:
        address = p if isinstance(p, str) else p.address
        if address != withholder:
            fees[address] += _fee(chain, rc.reveal(p, **_opening(setup, p, secrets)).tx_hash)
    d = rc.deadlines()
    ch.advance_time(chain, d.reveal - ch.chain_time(chain) + 1)  # past the reveal deadline
    rungs: dict[str, tuple[int, int]] = {}
    for p in setup.participants:
        address = p if isinstance(p, str) else p.address
        if address == withholder:
            with pytest.raises(ch.ContractRevertError) as info:
                rc.claim(p, **_opening(setup, p, secrets))
            assert info.value.error_name == "NotRevealed"
            continue
        result = rc.claim(p, **_opening(setup, p, secrets))
        fees[address] += _fee(chain, result.tx_hash)
        (event,) = result.events
        rungs[address] = (int(event.args["rung"]), int(event.args["accuracyWad"]))
    ch.advance_time(chain, d.claim - ch.chain_time(chain) + 1)  # past the claim deadline
    rc.sweep(setup.coordinator)
    net = {a: chain.balance(a) - before[a] + fees[a] for a in secrets}
    return {"rungs": rungs, "net": net, "share": rc.slash_share()}


def test_withheld_reveal_changes_only_the_withholders_outcome(
    deploy_setup: Deploy,
) -> None:
    """The same round (same secrets, joins and tiers) replayed with and without one participant
    withholding its reveal: every other participant gets the identical rung and accuracy; the
    withholder gets no model and loses exactly its bond (net -BOND after fees, counting that its
    join already paid it), which is split equally (floor) among the revealers."""
    setup, secrets = _joined_and_posted(deploy_setup)
    snapshot = setup.chain.snapshot()
    honest = _play(setup, secrets, withholder=None)
    setup.chain.revert_to(snapshot)
    withholder = next(iter(secrets))
    withheld = _play(setup, secrets, withholder=withholder)

    others = [a for a in secrets if a != withholder]
    assert {a: withheld["rungs"][a] for a in others} == {a: honest["rungs"][a] for a in others}
    assert withholder not in withheld["rungs"]
    # Bonds: the honest run returns every bond exactly; the withholder's bond is gone (it was
    # paid at join, before the snapshot, so its net over the rest of the round is 0 instead of
    # +BOND) and the revealers share it.
    assert all(honest["net"][a] == BOND for a in secrets)
    assert honest["share"] == 0
    share = BOND // len(others)
    assert withheld["share"] == share
    assert withheld["net"][withholder] == 0
    assert all(withheld["net"][a] == BOND + share for a in others)


@pytest.mark.parametrize("source", ["other_address", "other_deployment", "other_chain"])
def test_copied_commitment_cannot_be_revealed(deploy_setup: Deploy, source: str) -> None:
    """A commitment copied from another address (replaying that address's revealed secret), made
    for another deployment, or for another chain id is accepted at join (the contract cannot tell)
    but can never be revealed: the reveal reverts with RevealMismatch, so the copier cannot claim
    and forfeits its bond."""
    setup = deploy_setup(ch.connect(chain="embedded"))
    rc, chain = setup.round, setup.chain
    victim, copier = setup.chain.local_account(1), setup.chain.local_account(2)
    victim_secret, copier_secret = enc.random_secret(), enc.random_secret()
    key = delivery_key(0)
    victim_commitment = commitment(setup, victim.address, victim_secret, 0)
    if source == "other_address":
        copied, replayed = victim_commitment, victim_secret
    elif source == "other_deployment":
        other = deploy_setup(chain).round
        copied = enc.participant_commitment_v2(
            copier_secret, *key, copier.address, other.address, chain.chain_id
        )
        replayed = copier_secret
    else:
        copied = enc.participant_commitment_v2(
            copier_secret, *key, copier.address, rc.address, chain.chain_id + 1
        )
        replayed = copier_secret
    for k, (who, sealed) in enumerate(((victim, victim_commitment), (copier, copied))):
        rc.join(
            who,
            option_id=0,
            data_root=data_root(who.address, k),
            row_count=setup.menu[0].data_count,
            commitment=sealed,
        )
    ch.advance_time(chain, PHASE_SECONDS + 1)
    rc.reveal_coordinator(setup.coordinator, setup.coordinator_secret)
    rc.post_models(
        setup.coordinator,
        collective=posted(b"c", COLLECTIVE),
        logs=stand_in_logs(len(TIERS)),
        tiers=TIERS,
    )
    rc.reveal(
        victim, data_root=data_root(victim.address, 0), secret=victim_secret, delivery_key=key
    )
    with pytest.raises(ch.ContractRevertError) as info:  # the victim's secret is now public
        rc.reveal(copier, data_root=data_root(copier.address, 1), secret=replayed, delivery_key=key)
    assert info.value.error_name == "RevealMismatch"
    assert not rc.participant(copier.address).revealed


def test_minimum_bond_rule_values_and_errors() -> None:
    """The bond rule is ceil(max ratio * v(1) * wei per value unit), exact; a menu with a full
    share under the paper's valuation (v(1) = 100) needs 100 units = 1e16 wei by default; bad
    inputs are named errors; the warning appears only below the rule."""
    ratios = [3 * 10**17, 6 * 10**17, 10**18]
    assert minimum_participant_bond(ratios, max_model_value=100) == 100 * DEFAULT_WEI_PER_VALUE_UNIT
    assert minimum_participant_bond(ratios[:2], max_model_value=100, wei_per_value_unit=3) == 180
    # ceil, exact: 1/3 of 1 unit at 10 wei per unit = 3.33.. -> 4
    third = 10**18 // 3
    assert (
        minimum_participant_bond([third], max_model_value=Fraction(1), wei_per_value_unit=10) == 4
    )
    for bad in ([], [10**18 + 1], [-1]):
        with pytest.raises(BondRuleError):
            minimum_participant_bond(bad, max_model_value=100)
    with pytest.raises(BondRuleError):
        minimum_participant_bond(ratios, max_model_value=-1)
    assert bond_warning(10**16, ratios, max_model_value=100, wei_per_value_unit=10**14) is None
    line = bond_warning(10**16 - 1, ratios, max_model_value=100, wei_per_value_unit=10**14)
    assert line is not None
    assert line.startswith("warning: participant bond 9999999999999999 wei is below")
    assert "\n" not in line


def test_last_revealer_knows_its_draw_before_revealing(deploy_setup: Deploy) -> None:
    """The premise of the last-revealer bound (SECURITY.md): once the coordinator's secret is
    public, each participant can compute its own rung before revealing, and the contract then
    assigns exactly that rung. The only choice left is reveal (that rung + bond back) or withhold
    (no model, no bond: shown by the replay test above), so knowing the draw buys nothing."""
    setup, secrets = _joined_and_posted(deploy_setup)
    rc = setup.round
    predicted: dict[str, tuple[int, int]] = {}
    for address, secret in secrets.items():
        entry = rc.participant(address)
        seed = enc.draw_seed(rc.coordinator_secret(), secret, rc.address, entry.index)
        rung, accuracy, _ = enc.assign_rung(
            setup.menu[entry.option_id].ratio_wad,
            COLLECTIVE,
            [t.accuracy_wad for t in TIERS],
            seed,
        )
        predicted[address] = (rung, accuracy)
    for p in setup.participants:
        address = p if isinstance(p, str) else p.address
        rc.reveal(p, **_opening(setup, p, secrets))
        assignment = rc.assignment(address, secrets[address])
        assert (assignment.rung, assignment.accuracy_wad) == predicted[address]


SCENARIO = (
    Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
)


@pytest.mark.anvil
def test_deploy_warns_once_when_bond_below_rule(tmp_path: Path) -> None:
    """`modelpact coordinator deploy --participant-bond 1` still deploys (exit 0) but prints
    exactly one warning line on stderr naming the minimum bond."""
    chain = ["--chain", "anvil", "--state-dir", "st"]
    cmd = [sys.executable, "-m", "modelpact", "coordinator", "deploy", "--scenario", str(SCENARIO)]
    low = subprocess.run(
        [*cmd, "--dev-account", "0", "--participant-bond", "1", *chain],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert low.returncode == 0, low.stderr
    warnings = [line for line in low.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, low.stderr
    assert "participant bond 1 wei is below" in warnings[0]
    assert "deployed round" in low.stdout
