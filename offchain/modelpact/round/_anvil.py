"""Start and stop the pinned anvil with a state file, for ``--chain anvil``.

Uses :class:`modelpact.anvil.AnvilNode` when the chain work provides it; this fallback starts the
npm-pinned binary directly on a free port with ``--state FILE`` (load at start, dump at exit), so
a round survives the node being stopped and started again by the next command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from modelpact.errors import ModelpactError

__all__ = ["AnvilStartError", "anvil_binary", "managed_anvil"]


class AnvilStartError(ModelpactError, RuntimeError):
    """The anvil binary is missing or did not start."""


def anvil_binary() -> Path:
    """The npm-pinned anvil binary (``MODELPACT_ANVIL`` overrides)."""
    env = os.environ.get("MODELPACT_ANVIL")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[3]
    path = root / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if not path.is_file():
        raise AnvilStartError(
            f"anvil is not installed at {path}",
            hint="run ./scripts/bootstrap (installs the pinned npm tools) or set MODELPACT_ANVIL",
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    request = urllib.request.Request(
        url,
        data=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def managed_anvil(state_file: Path, *, chain_id: int | None = None) -> Iterator[str]:
    """Run anvil with ``--state state_file`` on a free port; yield its URL; stop it (dumps)."""
    port = _free_port()
    command = [str(anvil_binary()), "--port", str(port), "--state", str(state_file), "--silent"]
    if chain_id is not None:
        command += ["--chain-id", str(chain_id)]
    log = state_file.with_suffix(".log")
    with open(log, "ab") as log_handle:
        process = subprocess.Popen(command, stdout=log_handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AnvilStartError(
                    f"anvil did not start (see {log})",
                    hint="check the log; a corrupt state file can be moved away to start fresh",
                )
            time.sleep(0.05)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # anvil dumps --state on a clean shutdown
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
