"""Map a function over items on this machine's cores, by forking worker processes.

Why forking, not a pool of fresh interpreters: the work we spread (fitting models, a demo's
simulated participants) runs inside a process that has already imported numpy, scikit-learn and
web3 and built large read-only objects (datasets, belief models). A forked worker starts with all
of that in ~10 ms; a spawned one pays seconds of imports and pickles its inputs. So the function
and its items are never pickled: they are inherited. Only each worker's results (and an error)
travel back, pickled through a pipe.

Forking is used only where it is safe and worth it: on Linux (macOS frameworks are not fork-safe),
with more than one usable core, more than one item, and not inside a worker already. Everywhere
else :func:`fork_map` runs the items in this process, in order, with the same results.
``MODELPACT_WORKERS`` caps the workers (a whole number, anything else is refused; ``1`` runs
everything in process), as does a container's CPU quota (cgroup v2 ``cpu.max``).

What a worker may do: anything that depends only on inherited state and writes only its own
files. It must not use a connection it inherited (:func:`at_fork_in_child` lets a module drop
its connections in every new worker) nor rely on in-process caches being shared back (what must
come back is returned, or carried back by :func:`carried_back`).

Workers ignore Ctrl-C: the terminal's SIGINT reaches the whole process group, and the parent
alone decides (it stops its workers and raises KeyboardInterrupt); a worker also ends when its
parent dies, and once a worker's error is the one to raise, the workers after it are stopped.
What the workers cost is counted here (:func:`worker_cpu_seconds`): the parent's
``time.process_time`` does not see it, and ``RUSAGE_CHILDREN`` mixes it with other children.
"""

from __future__ import annotations

import ctypes
import gc
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from modelpact.errors import ModelpactError

__all__ = [
    "ParallelError",
    "Pending",
    "at_fork_in_child",
    "carried_back",
    "fork_call",
    "fork_map",
    "fork_map_dealt",
    "usable_workers",
    "worker_cpu_seconds",
]

T = TypeVar("T")
R = TypeVar("R")

# What the workers of the running fork_map compute: set in the parent just before forking, read
# by the children from their inherited copy of memory (never pickled).
_JOB: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
_IN_WORKER = False
_WORKER_CPU = [0.0]  # CPU seconds of every worker this process forked and heard back from
_CARRIERS: list[tuple[Callable[[], Any], Callable[[Any, Any], None]]] = []


class ParallelError(ModelpactError, RuntimeError):
    """A worker process died without returning its results."""


def usable_workers(items: int) -> int:
    """How many worker processes :func:`fork_map` would use for ``items`` items (1: none)."""
    if _IN_WORKER:
        return 1
    cap = _workers_cap()  # checked everywhere, also where nothing is forked
    if items < 2 or sys.platform != "linux":
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = min(len(os.sched_getaffinity(0)), _cpu_quota() or sys.maxsize)
    if cap is not None:
        cores = min(cores, max(1, cap))
    return max(1, min(cores, items))


_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""This process's cgroup (v2) CPU quota: "<quota> <period>" in microseconds, or "max <period>"."""


def _cpu_quota() -> int | None:
    """The CPUs a container's quota allows (rounded up; None: no quota or none readable). The
    affinity mask shows the host's cores, not a quota such as docker's ``--cpus``: more workers
    than the quota only compete for the same CPU time, each with its own copy of what it
    touches."""
    try:
        quota, period = _CPU_MAX.read_text().split()[:2]
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):  # "max": no quota
        return None


def _workers_cap() -> int | None:
    """``MODELPACT_WORKERS`` as a whole number (None: unset or empty); anything else is refused
    (it was ignored, using every core, or for a digit ``int`` does not read such as "²", a
    ValueError)."""
    cap = os.environ.get("MODELPACT_WORKERS", "").strip()
    if not cap:
        return None
    if not (cap.isascii() and cap.isdigit()):
        raise ModelpactError(
            f"MODELPACT_WORKERS={cap!r} is not a whole number of worker processes",
            hint="set it to e.g. 2, or MODELPACT_WORKERS=1 to run everything in one process, "
            "or unset it to use every core",
        )
    return int(cap)


def at_fork_in_child(hook: Callable[[], None]) -> None:
    """Run ``hook`` in every process forked from this one (e.g. to forget inherited sockets)."""
    os.register_at_fork(after_in_child=hook)


def worker_cpu_seconds() -> float:
    """CPU seconds (user + system) the workers of every :func:`fork_map` of this process used,
    as each measured itself (a process's CPU clock starts at zero when it is forked)."""
    return _WORKER_CPU[0]


@contextmanager
def carried_back(collect: Callable[[], T], merge: Callable[[T, T], None]) -> Iterator[None]:
    """Within the block, each worker calls ``collect()`` when it starts and when its items are
    done, and the parent gets both values (pickled) as ``merge(before, after)``: e.g. counters
    a worker's code increments in its own copy of memory (what a benchmark counts)."""
    carrier: tuple[Callable[[], Any], Callable[[Any, Any], None]] = (collect, merge)
    _CARRIERS.append(carrier)
    try:
        yield
    finally:
        _CARRIERS.remove(carrier)


def fork_map(fn: Callable[[T], R], items: Sequence[T], *, workers: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, the items split into contiguous runs over forked workers.

    The results come back in item order. An exception in a worker is raised here (the first
    worker's, in item order), after every worker has ended (those after it are stopped, their
    results unused). ``workers`` caps the count."""
    count = usable_workers(len(items))
    if workers is not None:
        count = min(count, max(1, workers))
    if count <= 1:
        return [fn(x) for x in items]
    global _JOB
    _JOB = (fn, items)
    try:
        return _run(count, len(items))
    finally:
        _JOB = None


def fork_map_dealt(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """:func:`fork_map` with the items dealt round-robin to the workers (item ``i`` to worker
    ``i % workers``) instead of in contiguous runs: for lists whose cost grows along the list
    (models trained on ever more rows), which contiguous runs would give all to the last worker.
    The results come back in item order; an exception is the one of the first failing item, as
    ``[fn(x) for x in items]`` raises it (each worker stops at its own first failure)."""
    count = usable_workers(len(items))
    if count <= 1:
        return [fn(x) for x in items]

    def hand(w: int) -> tuple[list[R], tuple[int, BaseException] | None]:
        done: list[R] = []
        for i in range(w, len(items), count):
            try:
                done.append(fn(items[i]))
            except Exception as exc:  # raised by the parent if no earlier item failed
                return done, (i, _portable(exc))
        return done, None

    hands = fork_map(hand, range(count))
    failed = [failure for _, failure in hands if failure is not None]
    if failed:
        raise min(failed, key=lambda failure: failure[0])[1]
    return [hands[i % count][0][i // count] for i in range(len(items))]


def _run(count: int, n: int) -> list[Any]:
    """Fork ``count`` workers over ``n`` items and gather their results in order."""
    context = multiprocessing.get_context("fork")
    bounds = [(n * w // count, n * (w + 1) // count) for w in range(count)]
    started: list[tuple[Any, Connection]] = []
    answers: dict[int, tuple[bool, Any]] = {}
    try:
        # the inherited objects out of the collector's reach: a collection in a worker would
        # otherwise write to every one of them, copying the parent's memory page by page
        _start(context, bounds, started)
        _gather(started, answers)
    finally:
        for w, (worker, receiver) in enumerate(started):
            receiver.close()
            if w not in answers:  # interrupted, or after the error raised: its work is lost
                worker.kill()
            worker.join()
    results: list[Any] = []
    for w in range(len(started)):
        ok, value = answers[w]
        if not ok:
            raise value
        results.extend(value)
    return results


def _start(context: Any, bounds: list[tuple[int, int]], started: list[Any]) -> None:
    """Fork one worker per run of ``bounds`` of the job in :data:`_JOB`, into ``started``."""
    # the inherited objects out of the collector's reach: a collection in a worker would
    # otherwise write to every one of them, copying the parent's memory page by page
    gc.freeze()
    try:
        with _interrupts_deferred():
            for start, stop in bounds:
                receiver, sender = context.Pipe(duplex=False)
                worker = context.Process(
                    target=_work, args=(sender, start, stop, os.getpid()), daemon=True
                )
                worker.start()
                sender.close()  # the parent keeps the reading end: EOF if the worker dies
                started.append((worker, receiver))
    finally:
        gc.unfreeze()


class Pending(Generic[R]):
    """What :func:`fork_call` started: call it (once) for the result, or :meth:`cancel` it."""

    def __init__(self, fn: Callable[[], R], started: list[tuple[Any, Connection]]) -> None:
        self._fn = fn
        self._started = started  # empty: nothing forked, fn runs when its result is asked

    def __call__(self) -> R:
        """The result (waiting for the worker), or its error raised here."""
        if not self._started:
            return self._fn()
        answers: dict[int, tuple[bool, Any]] = {}
        try:
            _gather(self._started, answers)
        finally:
            self._end(answered=0 in answers)
        ok, value = answers[0]
        if not ok:
            raise value
        return cast(R, value[0])

    def cancel(self) -> None:
        """Stop the worker, its result no longer wanted (an error on the way): it must not go on
        writing files (a round's plots into an output folder the next run clears) or linger."""
        if self._started:
            self._end(answered=False)

    def _end(self, *, answered: bool) -> None:
        worker, receiver = self._started.pop()
        receiver.close()
        if not answered:  # interrupted while waiting, or cancelled
            worker.kill()
        worker.join()


def fork_call(fn: Callable[[], R]) -> Pending[R]:
    """Start ``fn()`` in a forked worker now, while this process goes on; returns the
    :class:`Pending` result (call it, once, to wait for it, raising its error; or cancel it).
    Where :func:`fork_map` would not fork, ``fn`` runs when its result is asked for. For work
    whose result is needed late (a round's plots, rendered while the audit runs). A worker
    neither asked for its result nor cancelled ends with this process."""
    if usable_workers(2) <= 1:
        return Pending(fn, [])
    global _JOB
    _JOB = (lambda _: fn(), [None])
    started: list[tuple[Any, Connection]] = []
    try:
        _start(multiprocessing.get_context("fork"), [(0, 1)], started)
    finally:
        _JOB = None
    return Pending(fn, started)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C while workers are forked takes effect once they are (they are then stopped): a
    KeyboardInterrupt raised inside a fork hook (logging's, the chain clients') is printed and
    dropped there, and one in a worker before it ignores SIGINT prints a traceback. SIGINT is
    blocked in this thread (so in each child until it ignores it) and, on the main thread, where
    Python runs signal handlers, only recorded (another thread, e.g. a progress spinner's, may
    receive it: the mask is per thread)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    caught: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    main = threading.current_thread() is threading.main_thread() and previous is not None
    if main:
        signal.signal(signal.SIGINT, lambda n, _: caught.append(n))
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if caught and callable(previous):
        previous(signal.SIGINT, None)  # Python's default: raises KeyboardInterrupt
    elif caught and previous == signal.SIG_DFL:
        signal.raise_signal(signal.SIGINT)  # the default action again: it ends this process


def _gather(started: list[tuple[Any, Connection]], answers: dict[int, tuple[bool, Any]]) -> None:
    """Each worker's answer into ``answers`` as it arrives; once a worker failed, the workers
    after it are no longer waited for (its error is raised whatever they answer)."""
    waiting = {receiver: w for w, (_, receiver) in enumerate(started)}
    while waiting:
        for receiver in wait(list(waiting)):
            if receiver not in waiting:  # ready together with an earlier worker that failed
                continue
            w = waiting.pop(receiver)
            answers[w] = _receive(receiver)
            if not answers[w][0]:
                waiting = {r: v for r, v in waiting.items() if v < w}


def _receive(receiver: Connection) -> tuple[bool, Any]:
    try:
        ok, value, carried = pickle.loads(receiver.recv_bytes())
        cpu = receiver.recv()
    except EOFError:
        return False, ParallelError(
            "a worker process ended without returning its results (killed or out of memory?)",
            hint="run again; MODELPACT_WORKERS=1 runs everything in one process",
        )
    _WORKER_CPU[0] += cpu
    for (_, merge), (before, after) in zip(_CARRIERS, carried, strict=False):
        merge(before, after)
    return ok, value


def _work(sender: Connection, start: int, stop: int, parent: int) -> None:
    """A worker: compute its run of the inherited job and send (ok, results or error) back,
    with its CPU seconds and what :func:`carried_back` collects."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C (module doc)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _end_with_parent(parent)
    _own_streams()
    assert _JOB is not None
    fn, items = _JOB
    before = [collect() for collect, _ in _CARRIERS]
    try:
        answer: tuple[bool, Any] = (True, [fn(items[i]) for i in range(start, stop)])
    except BaseException as exc:  # sent to the parent, which raises it
        answer = (False, _portable(exc))
    carried = list(zip(before, [collect() for collect, _ in _CARRIERS], strict=True))
    try:
        payload = ForkingPickler.dumps((*answer, carried))
    except Exception as exc:  # an unpicklable result: say so instead of dying silently
        payload = ForkingPickler.dumps((False, _portable(exc), carried))
    sender.send_bytes(payload)
    sender.send(time.process_time())  # after the pickling: the results' CPU counts too
    sender.close()


def _own_streams() -> None:
    """Write to the process's real stdout and stderr: the inherited ones may be a console's
    proxies (rich's Live under ``console.status`` while the demo runs), whose lock a parent
    thread (the spinner's refresh) may have held at the fork; that thread does not exist here
    and never releases it, so a worker's first warning would hang it."""
    if sys.__stdout__ is not None:
        sys.stdout = sys.__stdout__
    if sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__


_PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent thread ends


def _end_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies (a killed demo leaves no worker
    sending on); a parent already gone ends it now."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the worker ends with its items
        return
    if os.getppid() != parent:
        os._exit(1)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling; else a ModelpactError with its message and hint (still
    one line and exit code 2 at the CLI), or a RuntimeError naming any other exception."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        if isinstance(exc, ModelpactError):
            return ModelpactError(exc.message, hint=exc.hint)
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
