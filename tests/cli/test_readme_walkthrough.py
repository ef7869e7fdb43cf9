"""README.md's walkthrough, followed literally: every line of its command block runs as written,
each as its own ``bash`` process, on a real anvil node, so the README cannot drift from the code
again (issue 12). Only the two lines that start a node and point the shell at it are played by
the test itself (it starts its own anvil on a free port and sets ``MODELPACT_RPC`` to it)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
NODE_LINES = (
    '"$(python -m modelpact.toolchain anvil)" --port 8545 &',
    "export MODELPACT_RPC=http://127.0.0.1:8545",
)


def walkthrough_commands() -> list[str]:
    """The command lines of the first ``bash`` block under "## Walkthrough", continuation lines
    joined, comment-only lines dropped (trailing comments stay: bash ignores them)."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Walkthrough", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = block.replace("\\\n", "").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture
def node() -> Iterator[str]:
    from modelpact.chain.backends.anvil import AnvilNode

    with AnvilNode() as anvil:
        yield anvil.rpc_url


def test_the_walkthrough_runs_as_written(tmp_path: Path, node: str) -> None:
    """Every walkthrough line exits 0 in a fresh folder that holds only the checkout's files the
    walkthrough names (offchain/ and .venv/, linked); at the end Alice's claim recorded a model,
    her fetched model verifies (hash, test set, accuracy) and the sweep emptied the round."""
    for name in ("offchain", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    commands = walkthrough_commands()
    played = [c.split("#")[0].strip() for c in commands if c.split("#")[0].strip() in NODE_LINES]
    assert played == list(NODE_LINES)
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "MODELPACT_RPC": node,
        "MODELPACT_PASSWORD": "walkthrough",
    }
    outputs: dict[str, str] = {}
    for command in commands:
        if command.split("#")[0].strip() in NODE_LINES:
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        outputs[command] = done.stdout
    said = "\n".join(outputs.values())
    assert "claimed rung" in said
    assert (tmp_path / "alice-model.bin").is_file()
    verify = next(out for cmd, out in outputs.items() if "participant verify" in cmd)
    assert verify.count(": ok") == 3, verify
    sweep = next(out for cmd, out in outputs.items() if "coordinator sweep" in cmd)
    assert sweep.startswith("swept "), sweep
