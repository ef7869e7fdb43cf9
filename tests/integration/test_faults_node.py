"""Faults: the anvil node is killed (SIGKILL, no clean shutdown) in the middle of each phase and
restarted from its state file; the round then completes with every wei accounted for.

anvil runs with ``--state FILE --state-interval 1``: it dumps its state every second, so a node
that dies without a clean shutdown comes back with everything dumped before it died. The test
waits for a dump before killing (what was mined after the last dump is lost with the node: the
round code's recorded-hash re-run covers that, see test_faults_process.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import commitment, data_root, delivery_key, posted, stand_in_logs

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends.anvil import AnvilNode

pytestmark = pytest.mark.anvil

COLLECTIVE = 8 * 10**17
TIERS = (posted(b"t1", 3 * 10**17),)
Step = tuple[str, Callable[[ch.Chain, ch.RoundContract], Any]]


def _steps(setup: Any, secrets: dict[str, bytes]) -> list[Step]:
    """The whole round as named steps, each run against the CURRENT chain and round objects."""
    people = list(setup.participants)

    def addr(p: Any) -> str:
        return p if isinstance(p, str) else str(p.address)

    def join(k: int) -> Step:
        p = people[k]

        def run(chain: ch.Chain, rc: ch.RoundContract) -> Any:
            return rc.join(
                p,
                option_id=k % len(setup.menu),
                data_root=data_root(addr(p), k),
                row_count=setup.menu[k % len(setup.menu)].data_count,
                commitment=commitment(setup, addr(p), secrets[addr(p)], k),
            )

        return ("join", run)

    def opening(k: int) -> dict[str, Any]:
        who = addr(people[k])
        return {
            "data_root": data_root(who, k),
            "secret": secrets[who],
            "delivery_key": delivery_key(k),
        }

    def reveal(k: int) -> Step:
        return ("reveal", lambda chain, rc: rc.reveal(people[k], **opening(k)))

    def claim(k: int) -> Step:
        return ("claim", lambda chain, rc: rc.claim(people[k], **opening(k)))

    def until_claim_deadline() -> Step:
        return (
            "wait",
            lambda chain, rc: ch.advance_time(
                chain, rc.deadlines().claim - ch.chain_time(chain) + 1
            ),
        )

    def post(chain: ch.Chain, rc: ch.RoundContract) -> Any:
        return rc.post_models(
            setup.coordinator,
            collective=posted(b"c", COLLECTIVE),
            logs=stand_in_logs(len(TIERS)),
            tiers=TIERS,
        )

    secret = setup.coordinator_secret
    return [
        join(0),
        join(1),
        ("kill:join", lambda chain, rc: None),
        join(2),
        join(3),
        ("reveal_coordinator", lambda c, rc: rc.reveal_coordinator(setup.coordinator, secret)),
        ("kill:post", lambda chain, rc: None),
        ("post", post),
        reveal(0),
        reveal(1),
        ("kill:reveal", lambda chain, rc: None),
        reveal(2),
        reveal(3),
        claim(0),
        claim(1),
        ("kill:claim", lambda chain, rc: None),
        claim(2),
        claim(3),
        until_claim_deadline(),
        ("sweep", lambda chain, rc: rc.sweep(setup.coordinator)),
    ]  # fmt: skip


@pytest.mark.parametrize("phase", ["join", "post", "reveal", "claim"])
def test_node_killed_mid_phase_restarts_from_state_and_round_completes(
    tmp_path: Path, deploy_setup: Any, phase: str
) -> None:
    """SIGKILL anvil mid-`phase` (after its state was dumped), restart it from the state file on
    a new port: the round is still there with the same participants, reveals and claims; the
    rest of the round completes; every participant got its bond back; the sweep empties the
    contract to the coordinator."""
    state = tmp_path / "state.json"
    node = AnvilNode(state_file=state, extra_args=("--state-interval", "1")).start()
    try:
        chain = ch.connect(chain="anvil", rpc_url=node.rpc_url)
        setup = deploy_setup(chain)
        rc = setup.round
        secrets = {
            (p if isinstance(p, str) else p.address): enc.random_secret()
            for p in setup.participants
        }
        killed = False
        for name, run in _steps(setup, secrets):
            if name == f"kill:{phase}":
                before = (rc.phase(), rc.joined_count(), rc.revealed_count(), rc.balance())
                time.sleep(2.2)  # at least one --state-interval dump after the last step
                assert node._process is not None
                node._process.kill()  # SIGKILL: no clean shutdown, no final dump
                node._process.wait()
                node = AnvilNode(state_file=state, extra_args=("--state-interval", "1")).start()
                chain = ch.connect(chain="anvil", rpc_url=node.rpc_url)
                rc = ch.round_at(chain, rc.address, rc.abi)
                after = (rc.phase(), rc.joined_count(), rc.revealed_count(), rc.balance())
                assert after == before
                killed = True
            elif not name.startswith("kill:"):
                run(chain, rc)
        assert killed
        for p in setup.participants:
            assert rc.participant(p if isinstance(p, str) else p.address).claimed
        assert rc.balance() == 0
        assert rc.phase() is enc.Phase.CLOSED
    finally:
        node.stop()
