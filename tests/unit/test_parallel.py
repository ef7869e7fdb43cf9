"""fork_map: the same results as a list comprehension, in order, with errors raised here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelpact import parallel
from modelpact.errors import ModelpactError
from modelpact.parallel import ParallelError, fork_map, fork_map_dealt, usable_workers

needs_fork = pytest.mark.skipif(usable_workers(2) < 2, reason="needs Linux with two usable cores")


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-(10**6), 10**6), max_size=9), st.integers(1, 4))
def test_results_equal_serial_in_order(items: list[int], workers: int) -> None:
    """Whatever the item count and the worker cap, the results are [fn(x) for x in items]."""
    assert fork_map(lambda x: x * x - 3, items, workers=workers) == [x * x - 3 for x in items]


@needs_fork
def test_work_runs_in_other_processes_on_inherited_state() -> None:
    """The function is not pickled: a closure over a local object works, in forked workers."""
    local = {"offset": 7}
    pids = fork_map(lambda x: (os.getpid(), x + local["offset"]), list(range(6)))
    assert [v for _, v in pids] == list(range(7, 13))
    assert os.getpid() not in {p for p, _ in pids}
    assert len({p for p, _ in pids}) == 2


def test_workers_cap_of_one_runs_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """MODELPACT_WORKERS=1 keeps everything in this process."""
    monkeypatch.setenv("MODELPACT_WORKERS", "1")
    assert {p for p in fork_map(lambda _: os.getpid(), [1, 2, 3])} == {os.getpid()}


@needs_fork
def test_first_error_in_item_order_is_raised_with_its_type_and_hint() -> None:
    """A worker's ModelpactError reaches the caller whole (message and hint)."""

    def fn(x: int) -> int:
        if x in (1, 4):
            raise ModelpactError(f"bad item {x}", hint="fix it")
        return x

    with pytest.raises(ModelpactError) as caught:
        fork_map(fn, [0, 1, 2, 3, 4, 5])
    assert caught.value.message == "bad item 1"
    assert caught.value.hint == "fix it"


class _UnpicklableError(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")


@needs_fork
def test_unpicklable_error_arrives_as_runtime_error_naming_it() -> None:
    """An exception that cannot be pickled still reaches the caller, named."""

    def fn(x: int) -> int:
        raise _UnpicklableError(x, 2)

    with pytest.raises(RuntimeError, match="_UnpicklableError"):
        fork_map(fn, [0, 1])


class _KeywordError(ModelpactError):
    """A ModelpactError whose constructor takes something other than its message."""

    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message, hint=f"retry with code {code + 1}")
        self.code = code


def _own_argument_errors() -> list[ModelpactError]:
    from modelpact.chain.errors import ContractRevertError
    from modelpact.ml.models import StoredModelError

    return [
        ContractRevertError("AlreadyJoined", [7], names=["seat"], action="join"),
        StoredModelError("model 0x01 is not in models", missing=True),
        _KeywordError("bad item", code=7),
    ]


@needs_fork
@pytest.mark.parametrize("error", _own_argument_errors(), ids=lambda e: type(e).__name__)
def test_a_modelpact_error_taking_its_own_arguments_arrives_whole(error: ModelpactError) -> None:
    """A ModelpactError raised in a worker reaches the caller as it would in one process,
    whatever its constructor takes (a revert's decoded name and arguments, a missing model's
    flag): its type, message, hint, arguments and attributes, so the CLI prints its one line
    with its fix and exit code 2, and callers catching its type still catch it."""

    def fn(x: int) -> int:
        if x == 1:
            raise error
        return x

    with pytest.raises(ModelpactError) as caught:
        fork_map(fn, [0, 1, 2])
    assert type(caught.value) is type(error)
    assert caught.value.one_line() == error.one_line()
    assert caught.value.args == error.args
    assert vars(caught.value) == vars(error)


class _HoldsALockError(ModelpactError):
    """A ModelpactError holding something that cannot be pickled."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint="the fix")
        self.lock = threading.Lock()


@needs_fork
def test_an_unpicklable_modelpact_error_keeps_its_one_line() -> None:
    """A ModelpactError that cannot travel whole still arrives as a ModelpactError with its
    message and hint (one line, exit code 2), not as an unexpected RuntimeError."""

    def fn(x: int) -> int:
        raise _HoldsALockError(f"bad item {x}")

    with pytest.raises(ModelpactError) as caught:
        fork_map(fn, [0, 1])
    assert caught.value.one_line() == "bad item 0; the fix"


@pytest.mark.parametrize("value", ["abc", "-1", "2.5", "²", "1e3", "0x2"])
def test_a_workers_cap_that_is_not_a_whole_number_is_one_line(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """MODELPACT_WORKERS set to anything but a whole number is refused with one line naming
    the variable and the fix (it was silently ignored, all cores used, or, for a digit
    Python's int() does not read, a ValueError)."""
    monkeypatch.setenv("MODELPACT_WORKERS", value)
    with pytest.raises(ModelpactError, match="MODELPACT_WORKERS") as caught:
        usable_workers(4)
    assert "MODELPACT_WORKERS=1" in caught.value.one_line()


@needs_fork
@pytest.mark.parametrize(("value", "cap"), [("", None), (" 1 ", 1), ("0", 1), ("10" * 20, None)])
def test_a_whole_number_workers_cap_is_read(
    monkeypatch: pytest.MonkeyPatch, value: str, cap: int | None
) -> None:
    """Unset or empty: every usable core; 0 and 1 run in one process; a huge cap is the cores."""
    monkeypatch.setenv("MODELPACT_WORKERS", value)
    cores = min(len(os.sched_getaffinity(0)), 4)
    assert usable_workers(4) == (cores if cap is None else cap)


class _LockedStream:
    """A stream whose writes take a lock, as a console's proxy of stderr does (rich's Live
    under ``console.status`` replaces sys.stdout and sys.stderr while the demo runs)."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def write(self, text: str) -> int:
        with self.lock:
            return len(text)

    def flush(self) -> None:
        """Nothing buffered."""


@needs_fork
def test_a_worker_writing_to_stderr_never_waits_on_a_lock_held_at_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that writes to stderr (a library's warning) while the parent's sys.stderr is a
    console proxy whose lock another thread (the spinner's) held when the worker was forked
    does not hang: in the child that thread does not exist and never releases it. Its output
    goes to the process's real stream instead."""
    lock = threading.Lock()
    lock.acquire()  # held by this thread across the fork, as the spinner's refresh holds it
    monkeypatch.setattr(sys, "stderr", _LockedStream(lock))

    def fn(x: int) -> int:
        signal.alarm(30)  # a hang ends the worker (the parent reports it) instead of the test
        print(f"warning from item {x}", file=sys.stderr)
        signal.alarm(0)
        return x

    try:
        assert fork_map(fn, [0, 1]) == [0, 1]
    finally:
        lock.release()


@needs_fork
@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("100000 100000\n", 1), ("150000 100000\n", 2), ("max 100000\n", 4), ("garbage", 4)],
)
def test_a_cpu_quota_caps_the_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cpu_max: str, expected: int
) -> None:
    """In a container limited to fewer CPUs than the host's cores it sees (cgroup v2 cpu.max,
    e.g. docker --cpus=1 on a large host), no more workers than the quota's CPUs (rounded
    up) are forked: each extra one only competes for the same CPU time with its own copy of
    what it touches. No quota ("max") or an unreadable file: every usable core."""
    monkeypatch.delenv("MODELPACT_WORKERS", raising=False)
    quota = tmp_path / "cpu.max"
    quota.write_text(cpu_max)
    monkeypatch.setattr(parallel, "_CPU_MAX", quota)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(4)))
    assert usable_workers(8) == expected


@needs_fork
def test_worker_that_dies_is_reported() -> None:
    """A worker killed mid-run raises ParallelError instead of hanging or losing items."""

    def fn(x: int) -> int:
        if x == 3:
            os._exit(9)
        return x

    with pytest.raises(ParallelError, match="ended without returning"):
        fork_map(fn, list(range(4)))


@needs_fork
def test_nested_map_in_a_worker_runs_serially() -> None:
    """A worker does not fork again (no process explosion): its own map stays in process."""
    pids = fork_map(lambda _: {os.getpid()} ^ set(fork_map(lambda _: os.getpid(), [1, 2])), [1, 2])
    assert pids == [set(), set()]


@needs_fork
def test_fork_hook_runs_in_children_only() -> None:
    """at_fork_in_child hooks run in each worker (e.g. to drop inherited connections)."""
    marker: dict[str, int] = {}
    parallel.at_fork_in_child(lambda: marker.__setitem__("pid", os.getpid()))
    seen = fork_map(lambda _: marker.get("pid") == os.getpid(), [1, 2])
    assert seen == [True, True]
    assert "pid" not in marker


@needs_fork
def test_workers_cpu_is_counted_here() -> None:
    """What the workers computed on is added to worker_cpu_seconds (the parent's own CPU
    clock does not see it)."""
    before = parallel.worker_cpu_seconds()
    fork_map(lambda n: sum(i * i for i in range(n)), [200_000, 200_000])
    assert parallel.worker_cpu_seconds() > before


class _CostlyToPickle:
    """A result whose pickling takes CPU time and arrives as the worker's CPU clock then."""

    def __reduce__(self) -> tuple[type[float], tuple[float]]:
        spin_until = time.process_time() + 0.05
        while time.process_time() < spin_until:
            pass
        return (float, (time.process_time(),))


@needs_fork
def test_workers_cpu_includes_sending_their_results() -> None:
    """A worker's CPU is counted up to its results sent, their pickling included (large rows,
    models): measured before it, that CPU was reported as the node's by bench/round.py, which
    subtracts the workers' CPU from every reaped child's."""
    before = parallel.worker_cpu_seconds()
    # each result arrives as the float its pickling made: the worker's CPU clock then
    clocks = cast(list[float], fork_map(lambda _: _CostlyToPickle(), [1, 2]))
    assert parallel.worker_cpu_seconds() - before >= sum(clocks)


_TALLY: dict[str, int] = {}


@needs_fork
def test_carried_back_merges_what_each_worker_counted() -> None:
    """A counter each worker increments in its own memory reaches the parent: merge gets each
    worker's values at its start and its end."""
    _TALLY.clear()
    _TALLY["calls"] = 5

    def merge(before: dict[str, int], after: dict[str, int]) -> None:
        _TALLY["calls"] += after["calls"] - before["calls"]

    def fn(x: int) -> int:
        _TALLY["calls"] += 1
        return x

    with parallel.carried_back(lambda: dict(_TALLY), merge):
        assert fork_map(fn, list(range(7))) == list(range(7))
    assert _TALLY["calls"] == 12


@needs_fork
def test_a_worker_ignores_ctrl_c() -> None:
    """SIGINT (the terminal's Ctrl-C reaches the whole process group) does not stop a worker:
    the parent alone decides."""

    def fn(x: int) -> int:
        os.kill(os.getpid(), signal.SIGINT)
        return x

    assert fork_map(fn, [1, 2]) == [1, 2]


def _stays_unless_stopped(folder: Path) -> None:
    """Record this process's pid; wait for the test's go-ahead (up to 20 s), then mark having
    run to the end."""
    (folder / "pid").write_text(str(os.getpid()))
    for _ in range(200):
        if (folder / "go").exists():
            break
        time.sleep(0.1)
    (folder / "finished").write_text("yes")


@needs_fork
def test_workers_after_a_failed_one_are_stopped(tmp_path: Path) -> None:
    """Once the first worker's error is known, the later workers are stopped (their results
    would be dropped) instead of being waited for."""

    def fn(x: int) -> int:
        if x == 0:
            while not (tmp_path / "pid").exists():  # the other worker is running
                time.sleep(0.01)
            raise ModelpactError("participant 0 failed", hint="fix it")
        _stays_unless_stopped(tmp_path)
        return x

    with pytest.raises(ModelpactError, match="participant 0 failed"):
        fork_map(fn, [0, 1])
    (tmp_path / "go").write_text("")
    assert not (tmp_path / "finished").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "pid").read_text()), 0)


_CTRL_C_IN_PARENT = """
import os, signal, sys, time
from pathlib import Path
from modelpact.parallel import fork_map
# Python's own handler, as in a terminal: a parent started in the background by a
# non-interactive shell (a CI job) inherits SIGINT ignored, and Python then keeps it so
signal.signal(signal.SIGINT, signal.default_int_handler)
folder = Path(sys.argv[1])

def fn(x):
    if x == 0:
        while not (folder / "pid").exists():
            time.sleep(0.01)
        os.kill(os.getppid(), signal.SIGINT)
        return x
    (folder / "pid").write_text(str(os.getpid()))
    time.sleep(20)
    (folder / "finished").write_text("yes")
    return x

try:
    fork_map(fn, [0, 1])
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@needs_fork
def test_ctrl_c_in_the_parent_stops_its_workers(tmp_path: Path) -> None:
    """A KeyboardInterrupt in the parent while it waits ends every worker (none lingers). Run
    in a process of its own with Python's SIGINT handler: the suite's own process may have
    SIGINT ignored (a CI job started in the background by a non-interactive shell inherits
    it so), where no Ctrl-C reaches it at all."""
    done = subprocess.run(
        [sys.executable, "-c", _CTRL_C_IN_PARENT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "interrupted", done.stdout + done.stderr
    assert not (tmp_path / "finished").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "pid").read_text()), 0)


_DEFAULT_SIGINT = """
import os, signal, threading, time
from modelpact.parallel import fork_map
signal.signal(signal.SIGINT, signal.SIG_DFL)
# a thread that does not block SIGINT (a spinner's): the kernel hands the signal to it
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
os.register_at_fork(before=lambda: os.kill(os.getpid(), signal.SIGINT))  # Ctrl-C while forking
fork_map(lambda x: x, [1, 2])
print("went on", flush=True)
"""


@needs_fork
def test_ctrl_c_while_forking_ends_a_process_whose_sigint_is_the_default() -> None:
    """In a process whose SIGINT has the default action (it ends the process: set so by its
    embedder or a supervisor), a Ctrl-C that arrives while workers are forked still ends it
    once they are, instead of being dropped."""
    done = subprocess.run(
        [sys.executable, "-c", _DEFAULT_SIGINT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGINT, done.stdout + done.stderr
    assert "went on" not in done.stdout


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-(10**6), 10**6), max_size=9))
def test_dealt_results_equal_serial_in_order(items: list[int]) -> None:
    """fork_map_dealt deals the items round-robin and still returns [fn(x) for x in items]."""
    assert fork_map_dealt(lambda x: 2 * x + 1, items) == [2 * x + 1 for x in items]


@needs_fork
def test_dealt_items_alternate_between_workers() -> None:
    """Item i goes to worker i % 2: neighbours (of similar cost) run in different processes."""
    pids = fork_map_dealt(lambda _: os.getpid(), list(range(6)))
    assert len({pids[0], pids[1]}) == 2
    assert pids[0::2] == [pids[0]] * 3
    assert pids[1::2] == [pids[1]] * 3


@needs_fork
def test_dealt_error_is_the_first_failing_item_in_item_order() -> None:
    """With items dealt to two workers, the error raised is the first failing item's (as in one
    process), not the first worker's: item 3 fails in worker 1 before item 4 in worker 0."""

    def fn(x: int) -> int:
        if x in (3, 4):
            raise ModelpactError(f"bad item {x}", hint="fix it")
        return x

    with pytest.raises(ModelpactError) as caught:
        fork_map_dealt(fn, list(range(8)))
    assert caught.value.message == "bad item 3"
    assert caught.value.hint == "fix it"


@needs_fork
def test_fork_call_runs_in_the_background_and_returns_or_raises_when_asked() -> None:
    """fork_call starts the work in another process at once (it runs while this one goes on)
    and its result function returns the value, or raises the worker's error whole."""
    r, w = os.pipe()
    waiting = parallel.fork_call(lambda: (os.write(w, b"x"), os.getpid())[1])
    assert os.read(r, 1) == b"x"  # written by the worker before we asked for the result
    assert waiting() != os.getpid()

    def bad() -> int:
        raise ModelpactError("no plot", hint="install matplotlib")

    with pytest.raises(ModelpactError) as caught:
        parallel.fork_call(bad)()
    assert caught.value.one_line() == "no plot; install matplotlib"


@needs_fork
def test_a_cancelled_fork_call_stops_its_worker() -> None:
    """A started call whose result is no longer wanted (an error on the way) is stopped on
    cancel: no process lingers or goes on working."""
    import multiprocessing

    def forever() -> int:
        while True:
            time.sleep(0.05)

    parallel.fork_call(forever).cancel()
    assert multiprocessing.active_children() == []


def test_fork_call_with_one_worker_runs_when_the_result_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With MODELPACT_WORKERS=1 nothing is forked: the work runs in this process, when asked."""
    monkeypatch.setenv("MODELPACT_WORKERS", "1")
    ran: list[int] = []
    waiting = parallel.fork_call(lambda: ran.append(os.getpid()) or 7)
    assert ran == []
    assert waiting() == 7
    assert ran == [os.getpid()]
