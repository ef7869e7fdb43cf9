"""Fixtures for chain integration tests: provider -> chain -> accounts -> deployed round.

``any_chain`` runs a test on BOTH the embedded eth-tester chain (fresh per test) and a real anvil
node (one per test session and xdist worker, on a free port, with a state file in tmp).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.compiler import CompiledContract, compile_round

DEMO_SCENARIO = (
    Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
)


def quorum_scenario(directory: Path, quorum: int) -> Path:
    """The demo scenario with a quorum below the capacity (each seat fills with probability 0.9:
    a law must cover every count the round can run at), so a round with fewer deliverers than
    seats runs instead of being cancelled."""
    target = directory / f"digits_quorum_{quorum}.toml"
    text = DEMO_SCENARIO.read_text()
    target.write_text(text + f"\n[participation]\nquorum = {quorum}\nfill = 0.9\n")
    return target


@pytest.fixture(scope="session")
def compiled_round() -> CompiledContract:
    return compile_round()


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    state = tmp_path_factory.mktemp("anvil") / "state.json"
    with AnvilNode(state_file=state) as node:
        yield node


@pytest.fixture
def node() -> Iterator[AnvilNode]:
    """A fresh anvil for one test: for tests that change its mining, count its requests or
    need its chain to start empty (the session's ``anvil_node`` is shared)."""
    with AnvilNode() as running:
        yield running


@pytest.fixture(params=["embedded", "anvil"])
def any_chain(request: pytest.FixtureRequest) -> ch.Chain:
    if request.param == "embedded":
        return ch.connect(chain="embedded")
    node: AnvilNode = request.getfixturevalue("anvil_node")
    return ch.connect(chain="anvil", rpc_url=node.rpc_url)


@dataclass(frozen=True)
class RoundSetup:
    """A deployed round and everything needed to drive it."""

    chain: ch.Chain
    round: ch.RoundContract
    coordinator: ch.Sender
    coordinator_secret: bytes
    menu: tuple[enc.OnchainOption, ...]
    config: enc.RoundConfig
    participants: tuple[ch.Sender, ...]


MENU = (
    enc.OnchainOption(100, 3 * 10**17, 18 * 10**18, 60 * 10**18),
    enc.OnchainOption(200, 6 * 10**17, 45 * 10**18, 75 * 10**18),
    enc.OnchainOption(400, 10**18, 80 * 10**18, 80 * 10**18),
)
BOND = 10**17
COORDINATOR_BOND = 10**18
PHASE_SECONDS = 1000
WINDOW = enc.MIN_WINDOW_SECONDS
TEST_ROWS = 10  # accuracies are exact counts over the committed test rows


def delivery_key(index: int) -> tuple[int, int]:
    """A valid alt_bn128 delivery key for test participant ``index``."""
    from modelpact.delivery import public_key

    point = public_key(1000 + index)
    return (point.x, point.y)


def data_root(who: str, index: int) -> bytes:
    """An address-bound data root of three rows for test participant ``index``."""
    return enc.participant_dataset_root(who, [[r, index, r * index] for r in range(3)])


def commitment(s: RoundSetup, who: str, secret: bytes, index: int) -> bytes:
    """The v2 commitment of ``who`` (secret plus its delivery key) for the round of ``s``."""
    x, y = delivery_key(index)
    return enc.participant_commitment_v2(secret, x, y, who, s.round.address, s.chain.chain_id)


def posted(name: bytes, accuracy_wad: int) -> enc.Tier:
    """A posted model with a stand-in (non-zero) log root."""
    return enc.Tier(enc.model_hash(name), accuracy_wad, enc.keccak256(b"log:" + name))


def past_data_window(chain: ch.Chain, rc: ch.RoundContract) -> None:
    """Move the clock past the data window (issue 11.7: posting and cancelling open MIN_WINDOW
    after joining closed; joining must be closed already)."""
    deadline = rc.data_deadline()
    assert deadline > 0, "joining is still open"
    chain.advance_time_to(deadline + 1)


def stand_in_logs(tiers: int) -> list[bytes]:
    """Packed evaluation logs of the right length (3 bytes per test row) for the collective
    model and ``tiers`` tiers: postModels checks only their length, challenges their content."""
    return [bytes(enc.PACKED_LOG_ROW_BYTES * TEST_ROWS)] * (tiers + 1)


def deploy(chain: ch.Chain, compiled: CompiledContract, *, capacity: int = 4) -> RoundSetup:
    coordinator = chain.local_account(0)
    secret = enc.random_secret()
    scenario = enc.keccak256(b"scenario")
    config = enc.RoundConfig(
        capacity=capacity,
        participant_bond=BOND,
        scenario_hash=scenario,
        test_set_commitment=enc.dataset_merkle_root([[0, 1], [1, 0]]),
        coordinator_commitment=enc.coordinator_commitment(
            secret, coordinator.address, scenario, chain.chain_id
        ),
        # the post deadline leaves the data window (MIN_WINDOW after joining closes) first
        schedule=enc.Schedule.after(
            ch.chain_time(chain), join=PHASE_SECONDS, post=enc.MIN_WINDOW_SECONDS + PHASE_SECONDS
        ),
        quorum=1,
        test_row_count=TEST_ROWS,
        curve_tolerance_wad=5 * 10**16,
        shortfall_wei_per_wad=10**18,
    )
    rc = ch.deploy_round(
        chain,
        sender=coordinator,
        menu_options=MENU,
        config=config,
        curve=[enc.CurveKnot(100, 2 * 10**17), enc.CurveKnot(1000, 8 * 10**17)],
        coordinator_bond=COORDINATOR_BOND,
        compiled=compiled,
    )
    # Participants: local accounts (keys known) and one node-unlocked address.
    participants: list[ch.Sender] = [chain.local_account(i) for i in range(1, 4)]
    participants.append(chain.accounts[4])
    return RoundSetup(chain, rc, coordinator, secret, MENU, config, tuple(participants))


@pytest.fixture
def round_setup(any_chain: ch.Chain, compiled_round: CompiledContract) -> RoundSetup:
    return deploy(any_chain, compiled_round)


@pytest.fixture
def deploy_setup(compiled_round: CompiledContract) -> Callable[[ch.Chain], RoundSetup]:
    """Deploy another round on a given chain (e.g. for constructor or restart tests)."""
    return lambda chain: deploy(chain, compiled_round)
