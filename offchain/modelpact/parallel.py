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
``MODELPACT_WORKERS`` caps the workers (``1`` runs everything in process).

What a worker may do: anything that depends only on inherited state and writes only its own
files. It must not use a connection it inherited (:func:`at_fork_in_child` lets a module drop
its connections in every new worker) nor rely on in-process caches being shared back.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from modelpact.errors import ModelpactError

__all__ = [
    "ParallelError",
    "at_fork_in_child",
    "fork_map",
    "fork_map_dealt",
    "usable_workers",
]

T = TypeVar("T")
R = TypeVar("R")

# What the workers of the running fork_map compute: set in the parent just before forking, read
# by the children from their inherited copy of memory (never pickled).
_JOB: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
_IN_WORKER = False


class ParallelError(ModelpactError, RuntimeError):
    """A worker process died without returning its results."""


def usable_workers(items: int) -> int:
    """How many worker processes :func:`fork_map` would use for ``items`` items (1: none)."""
    if _IN_WORKER or items < 2 or sys.platform != "linux":
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0))
    cap = os.environ.get("MODELPACT_WORKERS", "").strip()
    if cap.isdigit():
        cores = min(cores, max(1, int(cap)))
    return max(1, min(cores, items))


def at_fork_in_child(hook: Callable[[], None]) -> None:
    """Run ``hook`` in every process forked from this one (e.g. to forget inherited sockets)."""
    os.register_at_fork(after_in_child=hook)


def fork_map(fn: Callable[[T], R], items: Sequence[T], *, workers: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, the items split into contiguous runs over forked workers.

    The results come back in item order. An exception in a worker is raised here (the first
    worker's, in item order), after every worker has ended. ``workers`` caps the count."""
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
    The results come back in item order; errors as :func:`fork_map` raises them."""
    count = usable_workers(len(items))
    if count <= 1:
        return [fn(x) for x in items]
    hands = fork_map(lambda w: [fn(items[i]) for i in range(w, len(items), count)], range(count))
    results: list[R] = []
    for i in range(len(items)):
        results.append(hands[i % count][i // count])
    return results


def _run(count: int, n: int) -> list[Any]:
    """Fork ``count`` workers over ``n`` items and gather their results in order."""
    context = multiprocessing.get_context("fork")
    bounds = [(n * w // count, n * (w + 1) // count) for w in range(count)]
    started: list[tuple[Any, Connection]] = []
    answers: list[tuple[bool, Any]] = []
    try:
        for start, stop in bounds:
            receiver, sender = context.Pipe(duplex=False)
            worker = context.Process(target=_work, args=(sender, start, stop), daemon=True)
            worker.start()
            sender.close()  # the parent keeps only the reading end: EOF if the worker dies
            started.append((worker, receiver))
        answers = [_receive(receiver) for _, receiver in started]
    finally:
        for worker, receiver in started:
            receiver.close()
            if len(answers) < len(started):  # interrupted here: the workers' work is lost
                worker.kill()
            worker.join()
    results: list[Any] = []
    for ok, value in answers:
        if not ok:
            raise value
        results.extend(value)
    return results


def _receive(receiver: Connection) -> tuple[bool, Any]:
    try:
        answer: tuple[bool, Any] = receiver.recv()
    except EOFError:
        return False, ParallelError(
            "a worker process ended without returning its results (killed or out of memory?)",
            hint="run again; MODELPACT_WORKERS=1 runs everything in one process",
        )
    return answer


def _work(sender: Connection, start: int, stop: int) -> None:
    """A worker: compute its run of the inherited job and send (ok, results or error) back."""
    global _IN_WORKER
    _IN_WORKER = True
    assert _JOB is not None
    fn, items = _JOB
    try:
        answer: tuple[bool, Any] = (True, [fn(items[i]) for i in range(start, stop)])
    except BaseException as exc:  # sent to the parent, which raises it
        answer = (False, _portable(exc))
    try:
        sender.send(answer)
    except Exception as exc:  # an unpicklable result: say so instead of dying silently
        sender.send((False, _portable(exc)))
    sender.close()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
