"""The demo's --out folder: a previous demo's output is replaced, never anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpact.round.demo import DemoError, _clear_output


def _previous(out: Path, *names: str) -> None:
    out.mkdir()
    (out / ".modelpact-demo").write_text("modelpact demo output\n")
    for name in names:
        (out / name).write_text("{}")


def test_a_demo_killed_during_an_atomic_write_leaves_an_output_the_next_demo_replaces(
    tmp_path: Path,
) -> None:
    """A demo killed (kill -9, the OOM killer) between writing a top-level file's temporary
    copy and renaming it leaves ``.<name>.<random>.tmp`` beside it: the next demo replaces that
    output instead of refusing it as holding files a demo did not write."""
    out = tmp_path / "out"
    _previous(out, "report.json", ".deployment.json.k2j3h_1x.tmp", ".report.json.q8.tmp")
    _clear_output(out)
    assert sorted(p.name for p in out.iterdir()) == [".modelpact-demo"]


@pytest.mark.parametrize("name", [".alice.json.k2j3h.tmp", ".deployment.json", "x.tmp"])
def test_a_temporary_file_of_another_name_is_still_refused(tmp_path: Path, name: str) -> None:
    """Only a temporary copy of a name the demo writes counts as the demo's: anything else in a
    previous output is refused in one line, nothing deleted."""
    out = tmp_path / "out"
    _previous(out, "report.json", name)
    with pytest.raises(DemoError, match="did not write"):
        _clear_output(out)
    assert (out / name).is_file()
