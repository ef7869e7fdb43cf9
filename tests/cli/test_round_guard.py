"""A participant pays only a genuine round (issue 11.3), through the real entry point on a real
anvil node, one process per command:

- a look-alike round (same ABI, a clone of an implementation compiled from a test-only patch of
  the sources whose sweep takes the whole balance, participants' bonds included, and whose
  windows may be one second, made by that patched build's own factory) is refused by
  ``participant join`` and by the first ``participant reveal`` before anything is sent: the
  participant's balance and nonce unchanged to the wei;
- a round whose implementation is the genuine code but whose proofs implementation
  (``proofs()``) is that patched one is refused naming the proofs implementation;
- a byte-identical copy of a genuine round (the same clone code, made by hand-written init code,
  not by the factory) is refused, as is a record that names another round's deployment
  transaction;
- a bond above ``--max-bond`` (or above a record that understates it) is refused;
- the genuine round is joined, after the bond, coordinator and deadlines were shown.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "offchain/modelpact/data/scenarios/digits_demo.toml"
ALICE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil #1
ATTACKER = 3  # anvil dev account that deploys the fakes

# The test-only look-alike: the extension's sweep pays the coordinator the whole balance at any
# time (participants' bonds included), and the round allows one-second windows.
_PATCHES = {
    "contracts/src/ModelpactProofs.sol": (
        "if (!open) revert IModelpactRound.SweepTooEarly(block.timestamp, opensAt);",
        "(open, amount) = (true, address(this).balance);",
    ),
    "contracts/src/RoundCore.sol": (
        "uint256 public constant MIN_WINDOW = 1 hours;",
        "uint256 public constant MIN_WINDOW = 1 seconds;",
    ),
}


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    from modelpact.chain.backends.anvil import AnvilNode

    with AnvilNode() as anvil:
        yield anvil.rpc_url


def _run(cwd: Path, rpc: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "modelpact", *args, *(["--rpc", rpc] if rpc else [])]
    env = {**os.environ, "MODELPACT_PASSWORD": "pw"}
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _ok(cwd: Path, rpc: str | None, *args: str) -> str:
    done = _run(cwd, rpc, *args)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), done.stderr
    return lines[0]


@dataclass(frozen=True)
class Round:
    """The test's genuine round: its directory, record and web3 connection."""

    dir: Path
    record_path: Path
    record: dict[str, Any]
    w3: Any

    def wallet(self, address: str) -> tuple[int, int]:
        """(balance, nonce) of ``address``: what a refused command must leave unchanged."""
        return self.w3.eth.get_balance(address), self.w3.eth.get_transaction_count(address)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory, node: str) -> Round:
    """A round deployed with `coordinator deploy`, and alice's keystore and dataset."""
    from web3 import Web3

    from modelpact.ml.datasets import load_dataset, save_rows, shard_pool, split_test
    from modelpact.round.records import list_records

    d = tmp_path_factory.mktemp("guard")
    _ok(d, node, "coordinator", "deploy", "--scenario", str(SCENARIO), "--dev-account", "0")
    record_path = list_records(d / "deploy")[-1]
    record = json.loads(record_path.read_text())
    w3 = Web3(Web3.HTTPProvider(node))
    (d / "alice.key").write_text(ALICE_KEY)
    _ok(d, None, "participant", "import-account", "--keystore", "alice.json",
        "--private-key-file", "alice.key")  # fmt: skip
    rows = _option0_rows(w3, record)
    split = split_test(load_dataset("digits", seed=0), test_size=360, seed=0)
    save_rows(d / "alice.csv", shard_pool(split.pool, [rows], seed=1)[0])
    _ok(d, None, "participant", "commit", "--keystore", "alice.json", "--data", "alice.csv")
    return Round(d, record_path, record, w3)


def _option0_rows(w3: Any, record: dict[str, Any]) -> int:
    rc = w3.eth.contract(address=record["address"], abi=record["abi"])
    return int(rc.functions.option(0).call()[0])


@pytest.fixture(scope="module")
def patched() -> Any:
    """The look-alike build: the project's exact compiler input with :data:`_PATCHES`."""
    from modelpact.compiler import compile_input, compiler_input

    standard = copy.deepcopy(compiler_input())
    for unit, (old, new) in _PATCHES.items():
        text = standard["sources"][unit]["content"]
        assert old in text, f"patch target gone from {unit}: update the test"
        standard["sources"][unit]["content"] = text.replace(old, new)
    return compile_input(standard)


def _send(w3: Any, data: bytes, value: int = 0) -> tuple[str, str]:
    """Deploy ``data`` from the attacker's dev account; (tx hash, created address)."""
    sender = w3.eth.accounts[ATTACKER]
    tx = w3.eth.send_transaction({"from": sender, "data": "0x" + data.hex(), "value": value})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1
    return "0x" + bytes(tx).hex(), str(receipt["contractAddress"])


def _returning(runtime: bytes) -> bytes:
    """Hand-written init code that returns ``runtime`` as the new contract's code."""
    n = len(runtime).to_bytes(2, "big")
    return bytes.fromhex("61") + n + bytes.fromhex("80600c6000396000f3") + runtime


def _fake_record(genuine: Round, name: str, address: str, tx_hash: str, **extra: Any) -> Path:
    """A copy of the genuine deployment folder whose record names another round."""
    folder = genuine.dir / name
    shutil.copytree(genuine.record_path.parent, folder)
    record = {**genuine.record, "address": address, "tx_hash": tx_hash}
    record["extra"] = {**record["extra"], **extra}
    path = folder / f"fake-{address}.json"
    path.write_text(json.dumps(record))
    return path


def _join(genuine: Round, node: str, record: Path, *more: str) -> Any:
    return _run(genuine.dir, node, "participant", "join", "--keystore", "alice.json",
                "--option", "0", "--deployment", str(record), *more)  # fmt: skip


def _refused(genuine: Round, node: str, record: Path, *args: str) -> str:
    """Run a participant command against ``record``: refused in one line, nothing sent."""
    alice = genuine.w3.eth.account.from_key(ALICE_KEY).address
    before = genuine.wallet(alice)
    line = _one_line(_run(genuine.dir, node, "participant", *args, "--deployment", str(record)))
    assert genuine.wallet(alice) == before
    assert "nothing was sent" in line
    return line


def _create(genuine: Round, node: str, factory: str) -> Any:
    """createRound through ``factory`` from the attacker, with the genuine round's menu,
    configuration and bond: the round (a RoundContract)."""
    from modelpact import chain as ch

    chain = ch.connect(chain="anvil", rpc_url=node)
    rc = ch.round_at(chain, genuine.record["address"])
    return ch.deploy_round(
        chain, sender=chain.accounts[ATTACKER], menu_options=rc.options(), config=rc.config(),
        coordinator_bond=rc.coordinator_bond(), factory=factory,
    )  # fmt: skip


def _construct(w3: Any, contract: Any, *args: Any) -> str:
    """Deploy compiled ``contract`` from the attacker's account; its address."""
    made = w3.eth.contract(abi=contract.abi, bytecode=contract.bytecode)
    tx = made.constructor(*args).transact({"from": w3.eth.accounts[ATTACKER]})
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


def test_a_look_alike_round_is_refused_before_any_value_moves(
    genuine: Round, node: str, patched: Any
) -> None:
    """A round of the patched build (its own proofs and round implementations and factory),
    created with the genuine round's menu, configuration and bond: join and reveal exit 2 in one
    line naming the implementation; alice's balance and nonce are unchanged to the wei and the
    look-alike holds only the coordinator's bond."""
    from modelpact import chain as ch
    from modelpact.chain.deployment import deploy_shared

    w3 = genuine.w3
    chain = ch.connect(chain="anvil", rpc_url=node)
    fork = deploy_shared(chain, sender=w3.eth.accounts[ATTACKER], contracts=patched.contracts)
    fake = _create(genuine, node, fork.factory)
    record = _fake_record(genuine, "lookalike", fake.address, str(fake.deploy_tx_hash))
    join = ("join", "--keystore", "alice.json", "--option", "0")
    line = _refused(genuine, node, record, *join)
    impl = fork.round_implementation
    assert (
        f"the round's implementation {impl} is not the ModelpactRound this build compiles" in line
    )
    line = _refused(genuine, node, record, "reveal", "--keystore", "alice.json")
    assert "is not the ModelpactRound this build compiles" in line
    assert w3.eth.get_balance(fake.address) == fake.coordinator_bond()


def test_a_genuine_round_with_a_swapped_extension_is_refused(
    genuine: Round, node: str, patched: Any
) -> None:
    """The genuine ModelpactRound constructor given the patched proofs implementation (whose
    sweep takes everything), behind a genuine factory: the implementation's code matches, the
    proofs implementation's does not."""
    from modelpact.compiler import compile_contracts

    w3, ours = genuine.w3, compile_contracts()
    evil_proofs = _construct(w3, patched.contracts["ModelpactProofs"])
    impl = _construct(w3, ours["ModelpactRound"], evil_proofs)
    factory = _construct(w3, ours["ModelpactFactory"], impl)
    fake = _create(genuine, node, factory)
    record = _fake_record(genuine, "swapped", fake.address, str(fake.deploy_tx_hash))
    line = _refused(genuine, node, record, "join", "--keystore", "alice.json", "--option", "0")
    assert f"the proofs implementation {evil_proofs} is not the ModelpactProofs" in line


def test_a_clone_of_a_genuine_round_is_refused(genuine: Round, node: str) -> None:
    """The genuine round's code byte for byte (the same clone of the same implementation with
    the same arguments) put at a new address by hand-written init code, not by the factory:
    refused because no createRound made it, whether the record names the copy's creation, the
    genuine one's or a transaction the chain does not have."""
    w3 = genuine.w3
    runtime = bytes(w3.eth.get_code(genuine.record["address"]))
    tx_hash, clone = _send(w3, _returning(runtime))
    join = ("join", "--keystore", "alice.json", "--option", "0")
    own = _refused(genuine, node, _fake_record(genuine, "clone", clone, tx_hash), *join)
    assert (
        f"the recorded deployment of the round {clone} is not a createRound of its factory" in own
    )
    assert "emitted no RoundCreated of this round" in own
    lying = _fake_record(genuine, "clone-lie", clone, genuine.record["tx_hash"])
    assert "emitted no RoundCreated of this round" in _refused(genuine, node, lying, *join)
    made_up = _fake_record(genuine, "clone-made-up", clone, "0x" + "11" * 32)
    assert "is not on this chain" in _refused(genuine, node, made_up, *join)


def test_bond_cap_then_the_genuine_round_is_joined(genuine: Round, node: str) -> None:
    """A bond one wei above --max-bond, or above what a record states, and a record naming
    another coordinator are refused with nothing sent; with the default cap (the record's bond)
    the genuine round is joined and the bond, coordinator and deadlines were printed first;
    alice paid exactly the bond plus gas."""
    w3, bond = genuine.w3, int(genuine.record["extra"]["participant_bond_wei"])
    join = ("join", "--keystore", "alice.json", "--option", "0")
    line = _refused(genuine, node, genuine.record_path, *join, "--max-bond", str(bond - 1))
    assert f"participant bond of {bond} wei, above --max-bond {bond - 1} wei" in line
    understated = _fake_record(
        genuine, "understated", genuine.record["address"], genuine.record["tx_hash"],
        participant_bond_wei=bond // 2,
    )  # fmt: skip
    assert "above --max-bond" in _refused(genuine, node, understated, *join)
    other = _fake_record(genuine, "other-coordinator", genuine.record["address"],
                         genuine.record["tx_hash"])  # fmt: skip
    edited = {**json.loads(other.read_text()), "coordinator": w3.eth.accounts[ATTACKER]}
    other.write_text(json.dumps(edited))
    assert "names coordinator" in _refused(genuine, node, other, *join)
    alice = w3.eth.account.from_key(ALICE_KEY).address
    before = w3.eth.get_balance(alice)
    out = _ok(genuine.dir, node, "participant", *join, "--deployment", str(genuine.record_path))
    coordinator = w3.eth.accounts[0]
    assert "genuine ModelpactRound" in out
    assert f"coordinator {coordinator}" in out
    assert f"bond {bond} wei" in out
    assert "join until" in out
    assert "joined with option 0" in out
    tx = out.split("(tx ")[1].split(",")[0]
    receipt = w3.eth.get_transaction_receipt(tx)
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(alice) == before - bond - fee


def test_an_edited_abi_is_refused(genuine: Round, node: str) -> None:
    """A record for the genuine round whose ABI was edited (the wallet decodes the bond and the
    deadlines and encodes the join with it) is refused before anything is read as the bond."""
    abi = [e for e in genuine.record["abi"] if e.get("name") != "sweep"]
    edited = _fake_record(genuine, "abi", genuine.record["address"], genuine.record["tx_hash"])
    record = json.loads(edited.read_text())
    edited.write_text(json.dumps({**record, "abi": abi}))
    line = _refused(genuine, node, edited, "join", "--keystore", "alice.json", "--option", "0")
    assert "carries an ABI that is not the ModelpactRound ABI" in line


def test_other_code_at_a_verified_address_is_checked_again(
    genuine: Round, node: str, patched: Any
) -> None:
    """Alice joined (her state knows the round as verified); when the address later holds other
    code (a dev node restarted and redeployed, another chain under the same id; played here with
    anvil_setCode), her next command checks the round again and refuses before sending."""
    w3, address = genuine.w3, genuine.record["address"]
    _ok(genuine.dir, node, "participant", "join", "--keystore", "alice.json", "--option", "0",
        "--deployment", str(genuine.record_path))  # fmt: skip
    original = bytes(w3.eth.get_code(address))
    other = patched.contracts["ModelpactRound"].runtime_bytecode
    w3.provider.make_request("anvil_setCode", [address, other])
    try:
        reveal = ("reveal", "--keystore", "alice.json")
        line = _refused(genuine, node, genuine.record_path, *reveal)
        assert f"the round {address} is not a ModelpactFactory clone" in line
    finally:
        w3.provider.make_request("anvil_setCode", [address, "0x" + original.hex()])
    assert bytes(w3.eth.get_code(address)) == original


def _compiled(name: str) -> dict[str, Any]:
    from modelpact.compiler import build_contracts

    return build_contracts().contracts[name].to_json()


def _wheel_helpers() -> Any:
    """tests/cli/test_wheel.py's wheel build and venv (one definition of how a wheel is made)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_wheel", Path(__file__).with_name("test_wheel.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_guard_runs_from_the_wheel_outside_a_checkout(
    genuine: Round, node: str, tmp_path: Path
) -> None:
    """Installed from the wheel and run from a directory that is no checkout (no contracts/src,
    no solc on PATH), the wallet checks against the build the wheel ships: a hand-made copy of
    the genuine round is refused with nothing sent, the genuine round is joined."""
    from modelpact.ml.datasets import load_dataset, save_rows, shard_pool, split_test

    helpers = _wheel_helpers()
    venv = helpers._venv_with_wheel(tmp_path, helpers._build_wheel(tmp_path))
    here = tmp_path / "elsewhere"
    shutil.copytree(genuine.record_path.parent, here / "deploy")
    record = here / "deploy" / genuine.record_path.name
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPACT_")}
    env |= {"MODELPACT_PASSWORD": "pw", "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [str(venv / "bin" / "modelpact"), "participant", *args]
        return subprocess.run(argv, cwd=here, env=env, capture_output=True, text=True, check=False)

    bob_key = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"  # anvil #2
    (here / "bob.key").write_text(bob_key)
    imported = run("import-account", "--keystore", "bob.json", "--private-key-file", "bob.key")
    assert imported.returncode == 0, imported.stderr
    rows = _option0_rows(genuine.w3, genuine.record)
    split = split_test(load_dataset("digits", seed=0), test_size=360, seed=0)
    save_rows(here / "bob.csv", shard_pool(split.pool, [rows, rows], seed=1)[1])
    on = ("--deployment", str(record))
    assert run("commit", "--keystore", "bob.json", "--data", "bob.csv", *on).returncode == 0
    _, clone = _send(
        genuine.w3, _returning(bytes(genuine.w3.eth.get_code(genuine.record["address"])))
    )
    fake = _fake_record(genuine, "wheel-clone", clone, genuine.record["tx_hash"])
    bob = genuine.w3.eth.account.from_key(bob_key).address
    before = genuine.wallet(bob)
    join = ("join", "--keystore", "bob.json", "--option", "0", "--rpc", node)
    refused = run(*join, "--deployment", str(fake))
    assert "is not a createRound of its factory" in _one_line(refused)
    assert genuine.wallet(bob) == before
    done = run(*join, *on)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "genuine ModelpactRound" in done.stdout
    assert not (here / "contracts").exists()


def test_deploy_deploys_the_shared_contracts_once_then_reuses_a_verified_factory(
    tmp_path: Path, node: str
) -> None:
    """`coordinator deploy` without --factory deploys the shared contracts first and says so
    with their gas; another coordinator's `deploy --factory` with that factory verifies it and
    sends exactly one transaction (its createRound, under 1 M gas on the demo scenario)."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(node))
    deploy = ("coordinator", "deploy", "--scenario", str(SCENARIO))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = json.loads(_ok(tmp_path / "a", node, *deploy, "--dev-account", "4", "--json"))
    assert first["shared_deployed"] is True
    assert first["shared_gas_used"] > 1_000_000
    text = _ok(tmp_path / "b", node, *deploy, "--dev-account", "5", "--factory", first["factory"])
    assert f"using the verified factory {first['factory']}" in text
    assert "deployed the shared contracts" not in text
    five = w3.eth.accounts[5]
    assert w3.eth.get_transaction_count(five) == 1
    from modelpact.round.records import list_records

    record = json.loads(list_records(tmp_path / "b" / "deploy")[-1].read_text())
    receipt = w3.eth.get_transaction_receipt(record["tx_hash"])
    assert receipt["to"] == first["factory"]
    assert receipt["gasUsed"] <= 1_000_000
