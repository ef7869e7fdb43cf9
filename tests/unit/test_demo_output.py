"""The demo's --out folder: a previous demo's output is replaced, never anything else."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from modelpact.parallel import usable_workers
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


@pytest.mark.skipif(usable_workers(2) < 2, reason="needs Linux with two usable cores")
def test_a_demo_that_fails_after_its_plots_started_stops_their_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report's plots render in a forked worker while the round is audited; when the run
    fails (or is interrupted) before their result is asked for, the worker is stopped with it:
    it does not go on writing PNGs into an output folder the next run clears, nor linger."""
    import multiprocessing

    from modelpact.chain.backends import ChainSettings
    from modelpact.round import demo

    def never_done(*_args: object, **_kwargs: object) -> dict[str, Path]:
        while True:  # a worker that would run on unless it is stopped
            time.sleep(0.05)

    def audit_fails(*_args: object, **_kwargs: object) -> list[object]:
        raise DemoError("the audit failed", hint="a test")

    monkeypatch.setattr(demo, "write_plots", never_done)
    monkeypatch.setattr(demo, "_audit", audit_fails)
    settings = ChainSettings.build(
        chain="embedded", rpc_url=None, chain_id=None, state_dir=tmp_path / "state"
    )
    config = demo.DemoConfig(participants=3, seed=1, out_dir=tmp_path / "out", settings=settings)
    with pytest.raises(DemoError, match="the audit failed"):
        demo.run_demo(config)
    assert multiprocessing.active_children() == []
