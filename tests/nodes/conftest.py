"""Other EVM nodes for the tests, each on a free local port, started as anvil is
(modelpact.anvil): ready once it answers ``eth_chainId``; stopped by killing its process group.

- ``hardhat_node``: Hardhat 3's EDR node (scripts/hardhat-node: Node 22, tests/nodes/
  hardhat.config.js: chain id 31337, the development mnemonic's ten funded accounts, Cancun).
- ``ganache_node``: ganache 7.9.2, a pre-Cancun node (Shanghai rules), same chain id and accounts.
- ``old_anvil``: the pinned anvil run with an older ``--hardfork``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from modelpact.chain.backends.anvil import AnvilNode, free_port
from modelpact.chain_capabilities import http_rpc_call

ROOT = Path(__file__).resolve().parents[2]
CHAIN_ID = 31337
DEV_MNEMONIC = "test test test test test test test test test test test junk"


def _chain_id(url: str) -> int | None:
    try:
        return int(http_rpc_call(url, timeout=1)("eth_chainId", []), 16)
    except Exception:  # not up yet, or not answering JSON-RPC yet
        return None


class NodeProcess:
    """A node started from ``command + [port]`` in its own process group; output to ``log``."""

    def __init__(self, command: Sequence[str], *, log: Path, env: dict[str, str] | None = None):
        self.command = list(command)
        self.log = log
        self.env = env
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 90.0) -> NodeProcess:
        for _attempt in range(3):  # a free port can be taken before the node binds it
            port = free_port()
            with open(self.log, "ab") as log:
                process = subprocess.Popen(
                    [part.replace("{port}", str(port)) for part in self.command],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    start_new_session=True,  # its own process group: stop() kills children too
                )
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and process.poll() is None:
                if _chain_id(url) == CHAIN_ID:
                    self._process, self.url = process, url
                    return self
                time.sleep(0.1)
            self._kill(process)
        raise RuntimeError(f"{self.command[0]} did not answer on a free port; see {self.log}")

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self) -> None:
        if self._process is not None:
            self._kill(self._process)
            self._process = None


def _require(path: Path, what: str) -> None:
    if not path.exists():
        pytest.fail(f"{what} is not installed at {path}: run ./scripts/bootstrap")


@pytest.fixture(scope="session")
def hardhat_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    _require(ROOT / "node_modules" / "hardhat", "Hardhat")
    scratch = tmp_path_factory.mktemp("hardhat")
    env = {**os.environ, "MODELPACT_HARDHAT_DIR": str(scratch)}
    node = NodeProcess(
        [str(ROOT / "scripts" / "hardhat-node"), "--port", "{port}"],
        log=scratch / "hardhat.log",
        env=env,
    )
    yield node.start()
    node.stop()


@pytest.fixture(scope="session")
def ganache_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    cli = ROOT / "node_modules" / "ganache" / "dist" / "node" / "cli.js"
    _require(cli, "ganache")
    node_binary = shutil.which("node")
    if node_binary is None:
        pytest.fail("no `node` on PATH: ganache runs on the Node.js that runs npm")
    scratch = tmp_path_factory.mktemp("ganache")
    node = NodeProcess(
        [
            node_binary,
            str(cli),
            "--server.host=127.0.0.1",
            "--server.port={port}",
            f"--chain.chainId={CHAIN_ID}",
            f"--wallet.mnemonic={DEV_MNEMONIC}",
            "--logging.quiet",
        ],
        log=scratch / "ganache.log",
    )
    yield node.start()
    node.stop()


@pytest.fixture(scope="session")
def old_anvil() -> Iterator[dict[str, str]]:
    """URLs of anvil nodes running older hardforks, by hardfork name."""
    nodes = {fork: AnvilNode(extra_args=("--hardfork", fork)) for fork in OLD_FORKS}
    try:
        yield {fork: node.start().rpc_url for fork, node in nodes.items()}
    finally:
        for node in nodes.values():
            node.stop()


OLD_FORKS = ("shanghai", "paris", "homestead")
