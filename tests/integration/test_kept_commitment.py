"""``standing_reads`` keeps what ``commitmentOf`` stores under a root once it is not zero (only
a join writes it, once): a revert to a snapshot un-happens that join, and what a later join
stores there is read again, not the kept answer (embedded chain and anvil)."""

from __future__ import annotations

from conftest import BOND, MENU, RoundSetup, commitment, data_root
from eth_account.signers.local import LocalAccount

from modelpact.encoding import stored_commitment


def _join(s: RoundSetup, who: LocalAccount, root: bytes, secret: bytes) -> bytes:
    made = commitment(s, who.address, secret, 0)
    call = s.round.join.call(
        option_id=0, data_root=root, row_count=MENU[0].data_count, commitment=made, value=BOND
    )
    s.round.wait(s.round.send(call, who), action="join")
    return stored_commitment(made, who.address)


def test_a_kept_commitment_is_read_again_after_a_snapshot_revert(round_setup: RoundSetup) -> None:
    """Join with root R (commitment C1), read and keep it; go back before that join; join again
    with R and another secret (C2): the standing under R says C2."""
    s = round_setup
    who = s.participants[0]
    assert not isinstance(who, str)
    root = data_root(who.address, 0)
    snapshot = s.chain.snapshot()
    first = _join(s, who, root, b"\x01" * 32)
    assert s.round.standing(who.address, stored_under=root).stored_commitment == first
    s.chain.revert_to(snapshot)
    assert s.round.standing(who.address, stored_under=root).participant is None
    second = _join(s, who, root, b"\x02" * 32)
    assert second != first
    assert s.round.standing(who.address, stored_under=root).stored_commitment == second
