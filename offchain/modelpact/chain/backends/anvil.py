"""The managed anvil backend: the pinned anvil node (npm ``@foundry-rs/anvil-<platform>``),
started and stopped by modelpact, talked to as an RPC backend (:mod:`.rpc`).

``AnvilNode`` runs anvil on a free local port, optionally with ``--state FILE`` (loaded at start,
dumped on a clean shutdown), and waits until the node answers JSON-RPC. Restarting a node on the
same state file continues the same chain (contracts, balances, block height), which is what
:func:`open_managed_anvil` does for the CLI's default chain (state under ``--state-dir``).

    with AnvilNode(state_file=tmp / "state.json") as node:
        chain = modelpact.chain.connect(chain="anvil", rpc_url=node.rpc_url)
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from modelpact.chain.backends import ChainKind
from modelpact.chain.backends.base import Chain
from modelpact.errors import ModelpactError
from modelpact.toolchain import ToolchainError, foundry_binary

__all__ = [
    "ANVIL_VERSION",
    "STATE_FILE_NAME",
    "AnvilError",
    "AnvilNode",
    "anvil_binary",
    "free_port",
    "open_managed_anvil",
]

ANVIL_VERSION = "1.7.1"
"""The anvil version package.json pins."""
STATE_FILE_NAME = "anvil-state.json"
"""The managed node's state file inside the state directory."""


class AnvilError(ModelpactError, RuntimeError):
    """The anvil binary is missing, or the node did not start or stop."""


def anvil_binary() -> Path:
    """The pinned anvil binary: ``$MODELPACT_ANVIL`` or the npm package for this platform."""
    try:
        return foundry_binary("anvil")
    except ToolchainError as error:
        raise AnvilError(error.message, hint=error.hint) from error


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chain_id(url: str) -> int | None:
    request = urllib.request.Request(
        url,
        data=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return int(json.loads(response.read())["result"], 16)
    except (OSError, ValueError, KeyError):
        return None


class AnvilNode:
    """A running anvil process (context manager). Not thread-safe; one node per instance.

    ``state_file``: ``--state`` persistence (load at start, dump at stop).
    ``port``: fixed port, else a free one (retried if another process grabs it first).
    ``chain_id``: ``--chain-id``. ``extra_args``: further anvil flags.
    """

    def __init__(
        self,
        *,
        state_file: Path | None = None,
        port: int | None = None,
        chain_id: int = 31337,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 20.0,
        log_file: Path | None = None,
    ) -> None:
        self.state_file = state_file
        self.port = port
        self.chain_id = chain_id
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running node."""
        if self._process is None or self.port is None:
            raise AnvilError("the anvil node is not running", hint="call start() or use `with`")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> AnvilNode:
        """Start anvil and wait until it answers ``eth_chainId``; returns self."""
        if self.running:
            return self
        fixed = self.port is not None
        for _attempt in range(1 if fixed else 3):
            port = self.port if fixed and self.port is not None else free_port()
            if self._launch(port):
                return self
        raise AnvilError(
            f"anvil did not answer within {self.startup_timeout:.0f}s",
            hint=(
                f"see {self.log_file}" if self.log_file else "pass log_file= to see anvil's output"
            )
            + f"; a corrupt state file ({STATE_FILE_NAME} in --state-dir) can be moved away to "
            "start fresh",
        )

    def _launch(self, port: int) -> bool:
        command = [
            str(anvil_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(self.chain_id),
            # Historical states stay in memory (the last 500 blocks') and are dropped after:
            # by default anvil writes the whole state to disk for every block past the 500th,
            # which made each transaction of a long round cost milliseconds more (an empty block
            # took > 4 ms with 300 funded accounts). Nothing here reads state that old (a failed
            # transaction is replayed on its own block and the one before).
            "--max-persisted-states",
            "0",
            *self.extra_args,
        ]
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            command += ["--state", str(self.state_file)]
        ends = _ends_with_this_process()
        if self.log_file is not None:
            with open(self.log_file, "ab") as log:
                process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=ends
                )
        else:
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=ends
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False  # exited: port taken or bad state file
            if _chain_id(url) == self.chain_id:
                self._process = process
                self.port = port
                return True
            time.sleep(0.05)
        process.kill()
        process.wait()
        return False

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the node cleanly (SIGINT: anvil dumps ``--state``); kill it if it hangs."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AnvilError(
                f"anvil (pid {process.pid}) did not stop within {timeout:.0f}s and was killed",
                hint="its state file may not have been written; check it before the next run",
            ) from None

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent thread ends


def _ends_with_this_process() -> Callable[[], None] | None:
    """What the anvil child runs before exec so that it gets SIGINT (and writes its state file)
    when this process dies, killed with SIGKILL or by the OOM killer, where no ``stop`` runs:
    else it ran on forever, holding its port and memory. Only on Linux, and only from the main
    thread (the signal follows the thread that started the node, and a node started by a
    thread that ends must keep running)."""
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGINT), 0, 0, 0)
        if os.getppid() != parent:  # this process died before the call: end now
            os._exit(1)

    return in_child


@contextmanager
def open_managed_anvil(state_dir: Path, *, chain_id: int | None = None) -> Iterator[Chain]:
    """Start the pinned anvil on ``state_dir/anvil-state.json`` (log in ``anvil.log`` next to it),
    connect, and stop the node after the block (anvil then writes its state back).

    A node restarted from its state file has as latest block the last one mined before it
    stopped, maybe hours ago; one empty block is mined first so that views evaluated at the
    latest block (the round's phase, ``coordinator status``) see the present, as the next
    transaction will."""
    from modelpact.chain.backends.rpc import RpcBackend, connect_rpc

    state_file = state_dir / STATE_FILE_NAME
    restarted = state_file.is_file()
    state_dir.mkdir(parents=True, exist_ok=True)
    node = AnvilNode(
        state_file=state_file, chain_id=chain_id or 31337, log_file=state_dir / "anvil.log"
    )
    with node:
        chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL, expected_chain_id=chain_id)
        if restarted and isinstance(chain.backend, RpcBackend):
            chain.backend.mine()
        yield chain
