"""What each participant step asks of the node, and our CPU for it, printed as JSON (one object).

Run: .venv/bin/python bench/participant_steps.py [--participants 200] [--seed 0]

A batched demo round on anvil (as ``bench/round.py --cases anvil:N``), with every participant
step counted at the project's JSON-RPC client: HTTP exchanges and calls by method, per run of
the step (averaged over the participants), and the CPU milliseconds of this process in it
(``time.process_time``: the node's excluded). The demo sends each of join, reveal and claim
inside a held block (``send``) and re-runs it after the block to wait for its receipt
(``wait``); ``fetch`` reads and decrypts the delivery, ``verify`` checks the model. Outside
the steps (funding, the coordinator's deliveries, the audit) the counts are per participant
too. The 1-minute load average is recorded before and after: CPU times are inflated by a busy
machine, the counts are not. ``--no-gc``: the cyclic garbage collector off for the run (its
collections land on whichever step allocates when one is due, ~70 ms each at 200 participants,
which blurs the comparison of two versions' steps).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelpact.chain.backends import ChainSettings, jsonrpc
from modelpact.round import demo
from modelpact.round import participant as part
from modelpact.round.demo import DemoConfig, run_demo

_STEPS = ("join send", "join wait", "reveal send", "reveal wait", "claim send", "claim wait")
_STEPS += ("fetch", "verify")


class _Steps:
    """Exchanges, calls and CPU by the step that made them (``outside``: no step)."""

    def __init__(self) -> None:
        self.calls: dict[str, Counter[str]] = defaultdict(Counter)
        self.cpu: Counter[str] = Counter()
        self.runs: Counter[str] = Counter()
        self.current = ["outside"]

    def wrap(self, label: Callable[[dict[str, Any]], str], fn: Callable[..., Any]) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            name = label(kwargs)
            self.current.append(name)
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[name] += time.process_time() - started
                self.runs[name] += 1
                self.current.pop()

        return run


@contextmanager
def _instrumented(steps: _Steps) -> Iterator[None]:
    original = jsonrpc.JsonRpcClient._exchange

    def counting(client: Any, batch: Any, *, retry: bool) -> Any:
        counter = steps.calls[steps.current[-1]]
        counter["http_requests"] += 1
        for method, _ in batch:
            counter[str(method)] += 1
        return original(client, batch, retry=retry)

    def sent_or_waited(step: str) -> Callable[[dict[str, Any]], str]:
        return lambda kwargs: f"{step} " + ("send" if kwargs.get("wait", True) is False else "wait")

    patched = {
        (part, "join"): steps.wrap(sent_or_waited("join"), part.join),
        (part, "reveal"): steps.wrap(sent_or_waited("reveal"), part.reveal),
        (part, "start_claim"): steps.wrap(lambda _: "claim send", part.start_claim),
        (part, "claim"): steps.wrap(lambda _: "claim wait", part.claim),
        (demo, "fetch_delivery"): steps.wrap(lambda _: "fetch", demo.fetch_delivery),
        (part, "verify_model"): steps.wrap(lambda _: "verify", part.verify_model),
    }
    saved = {key: getattr(*key) for key in patched}
    jsonrpc.JsonRpcClient._exchange = counting  # type: ignore[method-assign,assignment]
    for (module, name), fn in patched.items():
        setattr(module, name, fn)
    try:
        yield
    finally:
        jsonrpc.JsonRpcClient._exchange = original  # type: ignore[method-assign]
        for (module, name), fn in saved.items():
            setattr(module, name, fn)


def run(participants: int, seed: int) -> dict[str, object]:
    steps = _Steps()
    with tempfile.TemporaryDirectory(prefix="modelpact-bench-") as tmp:
        base = Path(tmp)
        settings = ChainSettings.build(
            chain="anvil", rpc_url=None, chain_id=None, state_dir=base / "state"
        )
        load_before = os.getloadavg()[0]
        with _instrumented(steps):
            report = run_demo(
                DemoConfig(
                    participants=participants,
                    seed=seed,
                    out_dir=base / "out",
                    settings=settings,
                    dataset="digits" if participants <= 10 else "generated",
                    any_curve=participants > 10,
                )
            ).report

    def per_run(name: str) -> dict[str, float]:
        n = steps.runs[name] or 1
        counts = steps.calls[name].most_common()
        return {"cpu_ms": round(steps.cpu[name] / n * 1000, 2)} | {
            method: round(count / n, 2) for method, count in counts
        }

    total: Counter[str] = Counter()
    for name in _STEPS:
        total.update(steps.calls[name])
    return {
        "bench": "participant_steps",
        "participants": participants,
        "all_checks_passed": report.passed,
        "steps": {name: {"runs": steps.runs[name], **per_run(name)} for name in _STEPS},
        "steps_per_participant": {k: round(v / participants, 2) for k, v in total.most_common()},
        "outside_per_participant": {
            k: round(v / participants, 2) for k, v in steps.calls["outside"].most_common()
        },
        "load_avg_1m_before": round(load_before, 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-gc", action="store_true", help="run without the cyclic GC")
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()
    print(json.dumps(run(args.participants, args.seed), indent=2))


if __name__ == "__main__":
    main()
