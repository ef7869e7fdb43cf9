"""A managed anvil never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

_STARTER = """
import sys
from pathlib import Path
from modelpact.chain.backends.anvil import AnvilNode
node = AnvilNode(state_file=Path(sys.argv[1])).start()
print(node._process.pid, flush=True)
sys.stdin.read()  # until killed
"""


def _gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (an exited process not reaped by its new parent yet is
    a zombie: gone as well)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_anvil_ends_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    """kill -9 (or the OOM killer) of a demo or command running a managed anvil: the node ends
    too (with SIGINT, so it still writes its state file), instead of running on forever."""
    starter = subprocess.Popen(
        [sys.executable, "-c", _STARTER, str(tmp_path / "state.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert starter.stdout is not None
    anvil = int(starter.stdout.readline())
    try:
        assert not _gone(anvil)
        starter.kill()
        starter.wait()
        for _ in range(600):  # a bound on a hang, not a speed: 30 s
            if _gone(anvil):
                break
            time.sleep(0.05)
        assert _gone(anvil), "anvil still runs after the process that started it was killed"
    finally:
        if not _gone(anvil):
            os.kill(anvil, signal.SIGKILL)
