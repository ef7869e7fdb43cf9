"""Gas per ModelpactRound (v2) action, measured on the pinned anvil node; prints JSON.

    .venv/bin/python bench/gas.py                      # rounds of 10 and 1,000 participants
    .venv/bin/python bench/gas.py --sizes 10,100       # quicker

Reports, from mined receipts (gasUsed, so independent of the gas limit sent):
- per action: join, revealCoordinator, postModels (0..32 tiers, with the per-tier slope), reveal,
  claim (with 2 and 32 tiers, best and worst rung position), withdrawAfterDefault, sweep;
- per-participant join / reveal / claim gas (min, mean, max) for each round size, to show the
  cost does not grow with the number of participants (every per-participant action is O(1));
- postModels with 0, 1 and 8 of the joiners named undelivered (v2);
- deliver of the demo model (10 classes x 64 features), disputeDelivery of a garbage delivery,
  proveNonDelivery, and a WrongPrediction challenge on the demo model with T = 360 (issues 14, 15);
- deployment (issue 17): the one-time shared deployment (proofs implementation, round
  implementation, factory; per contract) and the per-round ``factory.createRound`` for the bench
  round and for the demo scenario as ``coordinator deploy`` plans it (target <= 1 M);
- the issue's targets and whether each is met.

    .venv/bin/python bench/gas.py --deploy-only        # just the deployment numbers

Rounds as clones (issue 17, branch clonepy on clonesol 9488593; load 0.46, 3.4 s CPU): the
shared contracts cost 10,152,586 gas once per chain (ModelpactProofs 4,714,578, ModelpactRound
4,970,938, ModelpactFactory 467,070); each round is then one createRound: 781,704 gas for the
demo scenario (3 options, 24 curve knots) and 557,757 for the bench round (3 options, 8 knots),
against 11.2 M for every round before.

What the review-hole fixes (branch holes) cost, forge `--isolate` on the gas suite, before -> after:
join 84,589 -> 84,931 max (+342: the join that fills the round records when joining closed, for
the data window; +94 for every other join), reveal 43,191 unchanged, claim 61,475 -> 60,990 max
(-485: forfeited reveal bonds are burned, no share to compute), postModels (4 tiers) 378,951 ->
379,218 (+267: the data-window check), cancelBelowQuorum 46,216 -> 46,478, withdrawAfterCancel
41,638 -> 42,136 (+498: it pays floor(B / J) after the coordinator's cancel), sweep +80. Posts here
first move the clock past the data window (`rc.data_deadline()`).

The cancel rule that burns B (branch fix1), same suite, land -> fix1: cancelBelowQuorum (1
undelivered) 46,478 -> 47,128 (+650: it computes what it burned for the RoundCancelled event's new
field), withdrawAfterCancel 42,092 -> 41,867 (-225: it pays exactly the bond, no share of B). The
new burned() view moves the selector dispatch: join max 85,149 -> 84,931 (-218), reveal max
43,428 -> 43,191 (-237), claim (4 tiers) max 61,228 -> 60,986 (-242), sweep 45,078 -> 44,998,
sweep after a default 42,472 -> 42,429, withdrawCompensation 44,349 -> 44,393 (+44); postModels
(4 tiers) 379,218 unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends.anvil import AnvilNode

BOND = 10**16
COORDINATOR_BOND = 10**18
COLLECTIVE = 9 * 10**17
MENU = (
    enc.OnchainOption(100, 3 * 10**17, 18 * 10**18, 60 * 10**18),
    enc.OnchainOption(200, 6 * 10**17, 45 * 10**18, 75 * 10**18),
    enc.OnchainOption(400, 10**18, 80 * 10**18, 80 * 10**18),
)
TARGETS = {"join": 100_000, "reveal": 50_000, "claim": 65_000}
TEST_ROWS = 360  # the demo's public test set: posted accuracies are exact counts over it, and
# each posted model carries its packed log of 3 x 360 bytes (the issue-14 calldata budget)


def _model(name: bytes, correct: int) -> enc.Tier:
    """A posted model: hash, exact-count accuracy, a stand-in log root."""
    accuracy = enc.accuracy_of_count(correct, TEST_ROWS)
    return enc.Tier(enc.model_hash(name), accuracy, enc.keccak256(b"log:" + name))


COLLECTIVE_MODEL = _model(b"collective", COLLECTIVE * TEST_ROWS // 10**18)


def _tiers(n: int) -> list[enc.Tier]:
    top = COLLECTIVE * TEST_ROWS // 10**18
    return [_model(f"tier-{i}".encode(), top * (i + 1) // (n + 1)) for i in range(n)]


def _logs(tiers: int) -> list[bytes]:
    """Dense packed logs (non-zero bytes, as a real model's log) for the collective model and
    ``tiers`` tiers: calldata the post pays for."""
    entries = [(1 + j % 9, 1 + j * 9 // 10) for j in range(TEST_ROWS)]
    return [enc.pack_eval_log(entries)] * (tiers + 1)


def _key() -> tuple[int, int]:
    from modelpact.delivery import public_key

    point = public_key(7)
    return (point.x, point.y)


KEY = _key()


class Bench:
    def __init__(self, chain: ch.Chain) -> None:
        self.chain = chain
        self.coordinator = chain.accounts[0]

    def deploy(
        self, capacity: int, menu: tuple[enc.OnchainOption, ...] = MENU, factory: str | None = None
    ) -> tuple:
        secret = enc.random_secret()
        scenario = enc.keccak256(b"bench")
        config = enc.RoundConfig(
            capacity=capacity,
            participant_bond=BOND,
            scenario_hash=scenario,
            test_set_commitment=enc.keccak256(b"test-set"),
            coordinator_commitment=enc.coordinator_commitment(
                secret, self.coordinator, scenario, self.chain.chain_id
            ),
            schedule=enc.Schedule.after(ch.chain_time(self.chain), join=10**6, post=10**6),
            quorum=1,
            test_row_count=TEST_ROWS,
            curve_tolerance_wad=5 * 10**16,
            shortfall_wei_per_wad=10**18,
        )
        curve = [enc.CurveKnot(100 * (i + 1), 10**17 * (i + 1)) for i in range(8)]
        rc = ch.deploy_round(
            self.chain,
            sender=self.coordinator,
            menu_options=menu,
            config=config,
            curve=curve,
            coordinator_bond=COORDINATOR_BOND,
            factory=factory,
        )
        return rc, secret, config

    def to(self, deadline: int) -> None:
        now = ch.chain_time(self.chain)
        if deadline >= now:
            ch.advance_time(self.chain, deadline - now + 1)

    def join_all(self, rc: ch.RoundContract, members: list[str], option: int | None = None):
        secrets, gas = {}, []
        for i, who in enumerate(members):
            s = enc.random_secret()
            secrets[who] = s
            o = i % len(MENU) if option is None else option
            commitment = enc.participant_commitment_v2(
                s, *KEY, who, rc.address, self.chain.chain_id
            )
            res = rc.join(
                who,
                option_id=o,
                data_root=root_of(who),
                row_count=rc_option_rows(o),
                commitment=commitment,
                value=BOND,
            )
            gas.append(res.gas_used)
        return secrets, gas


def root_of(who: str) -> bytes:
    """A distinct data root per participant (the contract only needs it new to the round)."""
    return enc.keccak256(who.encode())


def opening(who: str, secret: bytes) -> dict[str, object]:
    """reveal/claim arguments of ``who``."""
    return {"data_root": root_of(who), "secret": secret, "delivery_key": KEY}


def rc_option_rows(option: int) -> int:
    return MENU[option].data_count


def _stats(values: list[int]) -> dict[str, float | int]:
    return {
        "n": len(values),
        "min": min(values),
        "mean": round(statistics.fmean(values), 1),
        "max": max(values),
    }


def full_round(bench: Bench, size: int, tiers: int) -> dict[str, object]:
    """A round of ``size`` participants (all reveal, all claim); per-action gas lists."""
    members = list(bench.chain.accounts[1 : size + 1])
    rc, secret, _config = bench.deploy(size)
    secrets, join_gas = bench.join_all(rc, members)
    coord_reveal = rc.reveal_coordinator(bench.coordinator, secret).gas_used
    bench.to(rc.data_deadline())  # posting opens after the data window
    post = rc.post_models(
        bench.coordinator, collective=COLLECTIVE_MODEL, logs=_logs(tiers), tiers=_tiers(tiers)
    ).gas_used
    reveal_gas = [rc.reveal(who, **opening(who, secrets[who])).gas_used for who in members]  # type: ignore[arg-type]
    claim_gas = [rc.claim(who, **opening(who, secrets[who])).gas_used for who in members]  # type: ignore[arg-type]
    bench.to(rc.deadlines().claim)
    sweep = rc.sweep(bench.coordinator).gas_used
    return {
        "participants": size,
        "tiers": tiers,
        "join": _stats(join_gas),
        "reveal": _stats(reveal_gas),
        "claim": _stats(claim_gas),
        "revealCoordinator": coord_reveal,
        "postModels": post,
        "sweep": sweep,
    }


def post_models_by_tiers(bench: Bench, counts: list[int]) -> dict[str, int]:
    out = {}
    for n in counts:
        rc, secret, _ = bench.deploy(1)
        bench.join_all(rc, [bench.chain.accounts[1]])
        rc.reveal_coordinator(bench.coordinator, secret)
        bench.to(rc.data_deadline())  # posting opens after the data window
        out[str(n)] = rc.post_models(
            bench.coordinator, collective=COLLECTIVE_MODEL, logs=_logs(n), tiers=_tiers(n)
        ).gas_used
    return out


def post_models_by_undelivered(bench: Bench, counts: list[int]) -> dict[str, int]:
    """postModels gas (4 tiers) when ``k`` of ``k + 1`` joiners are named undelivered."""
    out = {}
    for k in counts:
        rc, secret, _ = bench.deploy(k + 1)
        members = list(bench.chain.accounts[1 : k + 2])
        bench.join_all(rc, members)
        rc.reveal_coordinator(bench.coordinator, secret)
        bench.to(rc.data_deadline())  # posting opens after the data window
        out[str(k)] = rc.post_models(
            bench.coordinator,
            collective=COLLECTIVE_MODEL,
            logs=_logs(4),
            tiers=_tiers(4),
            undelivered=members[1:],
        ).gas_used
    return out


def claim_worst_case(bench: Bench, tiers: int) -> dict[str, int]:
    """Claim gas when the target sits above every tier (full scan) vs below the first."""
    menu = (
        enc.OnchainOption(10, 10**16, 10**16, 10**18),
        enc.OnchainOption(10, 10**18 - 1, 10**18 - 1, 10**18),
    )
    out = {}
    for label, option in (("target_below_first_tier", 0), ("target_above_all_tiers", 1)):
        rc, secret, _config = bench.deploy(1, menu)
        who = bench.chain.accounts[1]
        s = enc.random_secret()
        rc.join(
            who,
            option_id=option,
            data_root=root_of(who),
            row_count=10,
            commitment=enc.participant_commitment_v2(
                s, *KEY, who, rc.address, bench.chain.chain_id
            ),
            value=BOND,
        )
        rc.reveal_coordinator(bench.coordinator, secret)
        bench.to(rc.data_deadline())  # posting opens after the data window
        rc.post_models(
            bench.coordinator, collective=COLLECTIVE_MODEL, logs=_logs(tiers), tiers=_tiers(tiers)
        )
        rc.reveal(who, **opening(who, s))  # type: ignore[arg-type]
        out[label] = rc.claim(who, **opening(who, s)).gas_used  # type: ignore[arg-type]
    return out


def default_path(bench: Bench) -> dict[str, int]:
    rc, _, config = bench.deploy(3)
    members = list(bench.chain.accounts[1:4])
    bench.join_all(rc, members)
    bench.to(config.schedule.post)
    gas = [rc.withdraw_after_default(who).gas_used for who in members]
    return {"withdrawAfterDefault": max(gas)}


DELIVERY_TARGETS = {"deliver": 120_000, "disputeDelivery": 250_000, "challenge": 400_000}
"""Issue 15 (deliver of the demo model, a dispute) and issue 14 (a challenge on it)."""


def _demo_model() -> tuple[bytes, object]:
    """The demo model (10 classes x 64 features, trained on digits) and the 360-row test set."""
    from modelpact.ml.datasets import digits_rows, split_test
    from modelpact.ml.models import train_model_bytes

    split = split_test(digits_rows(), test_size=360, seed=0)
    return train_model_bytes(split.pool, seed=0), split.test


def _lying_post(model: bytes, test) -> tuple[enc.Tier, bytes]:
    """The collective model posted with one logged prediction false (counts follow the lie)."""
    from modelpact.ml.evallog import build_eval_log

    entries = list(build_eval_log(model, test).entries)
    j = next(k for k in range(len(entries)) if entries[k][1] > (entries[k - 1][1] if k else 0))
    lied = [*entries[:j], ((entries[j][0] + 1) % 10, entries[j][1] - 1)]
    lied += [(p, c - 1) for p, c in entries[j + 1 :]]
    accuracy = enc.accuracy_of_count(lied[-1][1], len(lied))
    posted = enc.Tier(enc.model_hash(model), accuracy, enc.EvalLogTree.of(lied).root)
    return posted, enc.pack_eval_log(lied)


class ProofRound:
    """A round of three participants on the collective rung (option 2, ratio 1), posted with a
    false log of the demo model over the real digits test set (T = 360); each participant's
    delivery secret key is known (1000 + i)."""

    def __init__(self, bench: Bench) -> None:
        self.model, self.test = _demo_model()
        rows = self.test.tolist()
        secret = enc.random_secret()
        scenario = enc.keccak256(b"bench-proofs")
        config = enc.RoundConfig(
            capacity=3,
            participant_bond=BOND,
            scenario_hash=scenario,
            test_set_commitment=enc.dataset_merkle_root(rows),
            coordinator_commitment=enc.coordinator_commitment(
                secret, bench.coordinator, scenario, bench.chain.chain_id
            ),
            schedule=enc.Schedule.after(ch.chain_time(bench.chain), join=10**6, post=10**6),
            quorum=1,
            test_row_count=len(rows),
            curve_tolerance_wad=5 * 10**16,
            shortfall_wei_per_wad=10**18,
        )
        self.rc = rc = ch.deploy_round(
            bench.chain,
            sender=bench.coordinator,
            menu_options=MENU,
            config=config,
            curve=[enc.CurveKnot(100, 10**17)],
            coordinator_bond=COORDINATOR_BOND,
        )
        self.members = list(bench.chain.accounts[1:4])
        self.keys = {who: 1000 + i for i, who in enumerate(self.members)}
        self.secrets = {who: enc.random_secret() for who in self.members}
        for who in self.members:
            commitment = enc.participant_commitment_v2(
                self.secrets[who], *self.key(who), who, rc.address, bench.chain.chain_id
            )
            rc.join(
                who,
                option_id=2,
                data_root=root_of(who),
                row_count=MENU[2].data_count,
                commitment=commitment,
                value=BOND,
            )
        rc.reveal_coordinator(bench.coordinator, secret)
        bench.to(rc.data_deadline())  # posting opens after the data window
        self.posted, self.log = _lying_post(self.model, self.test)
        rc.post_models(bench.coordinator, collective=self.posted, logs=[self.log])
        for who in self.members:
            opening = {"data_root": root_of(who), "secret": self.secrets[who]}
            rc.reveal(who, **opening, delivery_key=self.key(who))  # type: ignore[arg-type]

    def key(self, who: str) -> tuple[int, int]:
        """The delivery public key of ``who``."""
        from modelpact.delivery import public_key

        point = public_key(self.keys[who])
        return (point.x, point.y)


def delivery_and_proofs(bench: Bench) -> dict[str, int]:
    """deliver (the demo model), disputeDelivery (a garbage delivery), proveNonDelivery and a
    WrongPrediction challenge on the demo model (:class:`ProofRound`)."""
    from modelpact import delivery as dc
    from modelpact import proofs

    r = ProofRound(bench)
    honest, garbage, silent = r.members
    sealed = dc.encrypt(plaintext=r.model, recipient=dc.CurvePoint(*r.key(honest)))
    e = (sealed.ephemeral.x, sealed.ephemeral.y)
    deliver = r.rc.deliver(
        bench.coordinator, participant=honest, ephemeral=e, ciphertext=sealed.ciphertext
    )
    junk = dc.encrypt(plaintext=bytes(len(r.model)), recipient=dc.CurvePoint(*r.key(garbage)))
    e = (junk.ephemeral.x, junk.ephemeral.y)
    r.rc.deliver(bench.coordinator, participant=garbage, ephemeral=e, ciphertext=junk.ciphertext)
    dispute = r.rc.dispute_delivery(
        garbage,
        data_root=root_of(garbage),
        secret=r.secrets[garbage],
        delivery_secret_key=r.keys[garbage],
        ephemeral=e,
        ciphertext=junk.ciphertext,
    )
    bench.to(r.rc.deadlines().delivery)
    missing = r.rc.prove_non_delivery(
        silent, data_root=root_of(silent), secret=r.secrets[silent], delivery_key=r.key(silent)
    )
    entry = proofs.PostedModel(r.posted.model_hash, r.posted.accuracy_wad, r.posted.log_root, r.log)
    models = {r.posted.model_hash: r.model}
    fault, _ = proofs.find_fault([entry], models=models, test_rows=r.test)
    if fault is None or fault.kind != proofs.FraudKind.WRONG_PREDICTION:
        raise RuntimeError(f"the false log should be a wrong prediction, found {fault}")
    evidence = proofs.evidence(fault, posted=[entry], models=models, test_rows=r.test)
    challenge = r.rc.challenge(bench.chain.accounts[5], evidence)
    return {
        "model_bytes": len(r.model),
        "ciphertext_bytes": len(sealed.ciphertext),
        "deliver": deliver.gas_used,
        "disputeDelivery": dispute.gas_used,
        "proveNonDelivery": missing.gas_used,
        "challenge_wrong_prediction": challenge.gas_used,
    }


def deployment(bench: Bench) -> dict[str, object]:
    """Gas of the one-time shared deployment (each contract) and of one createRound: the bench
    round (3 options, 8 curve knots) and the demo scenario as `coordinator deploy` plans it."""
    import tempfile

    from modelpact.chain.deployment import deploy_shared
    from modelpact.round.coordinator import deploy_scenario

    shared = deploy_shared(bench.chain, sender=bench.coordinator)
    receipts = [bench.chain.w3.eth.get_transaction_receipt(h) for h in shared.tx_hashes]  # type: ignore[arg-type]
    each = dict(
        zip(("ModelpactProofs", "ModelpactRound", "ModelpactFactory"), receipts, strict=True)
    )
    rc, _, _ = bench.deploy(10, factory=shared.factory)
    bench_round = bench.chain.w3.eth.get_transaction_receipt(rc.deploy_tx_hash)["gasUsed"]  # type: ignore[arg-type]
    scenario = (
        Path(__file__).resolve().parents[1] / "offchain/modelpact/data/scenarios/digits_demo.toml"
    )
    with tempfile.TemporaryDirectory(prefix="bench-gas-") as tmp:
        demo = deploy_scenario(
            bench.chain,
            scenario_path=scenario,
            sender=bench.chain.accounts[1],
            deploy_dir=Path(tmp) / "deploy",
            state_dir=Path(tmp) / "state",
            factory=shared.factory,
        )
    return {
        "shared_once": {name: int(r["gasUsed"]) for name, r in each.items()},
        "shared_once_total": shared.gas_used,
        "createRound_bench_round": int(bench_round),
        "createRound_demo_scenario": demo.gas_used,
        "demo_menu_options": len(_menu_of(bench.chain, demo.record.address)),
        "demo_curve_knots": len(demo.record.extra.curve),
    }


def _menu_of(chain: ch.Chain, address: str) -> list[object]:
    return list(ch.round_at(chain, address).options())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000", help="round sizes, comma-separated")
    parser.add_argument("--tiers", type=int, default=4, help="tiers posted in the full rounds")
    parser.add_argument("--deploy-only", action="store_true", help="only the deployment gas")
    args = parser.parse_args()
    if args.deploy_only:
        started, cpu = time.perf_counter(), time.process_time()
        with AnvilNode() as node:
            deploy_gas = deployment(Bench(ch.connect(chain="anvil", rpc_url=node.rpc_url)))
        out = {
            "node": "anvil 1.7.1 (pinned npm binary), gas from mined receipts",
            "machine_load_1min": os.getloadavg()[0],
            "seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1),
            "deployment": deploy_gas,
            "targets": {"createRound<=1M": deploy_gas["createRound_demo_scenario"] <= 1_000_000},
        }
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()
    with AnvilNode(extra_args=("--accounts", str(max(sizes) + 2), "--balance", "1000")) as node:
        chain = ch.connect(chain="anvil", rpc_url=node.rpc_url)
        bench = Bench(chain)
        rounds = [full_round(bench, n, args.tiers) for n in sizes]
        posts = post_models_by_tiers(bench, [0, 1, 4, 8, 16, 32])
        claims = {str(n): claim_worst_case(bench, n) for n in (2, 32)}
        default = default_path(bench)
        undelivered = post_models_by_undelivered(bench, [0, 1, 8])
        proof_gas = delivery_and_proofs(bench)
        deploy_gas = deployment(bench)
    per_tier = round((posts["32"] - posts["0"]) / 32, 1)
    worst_claim = max(v for c in claims.values() for v in c.values())
    worst = {
        "join": max(r["join"]["max"] for r in rounds),  # type: ignore[index]
        "reveal": max(r["reveal"]["max"] for r in rounds),  # type: ignore[index]
        "claim": max(worst_claim, *(r["claim"]["max"] for r in rounds)),  # type: ignore[index]
    }
    result = {
        "node": "anvil 1.7.1 (pinned npm binary), gas from mined receipts",
        "machine_load_1min": os.getloadavg()[0],
        "seconds": round(time.perf_counter() - started, 1),
        "rounds": rounds,
        "postModels_by_tier_count": posts,
        "postModels_gas_per_tier": per_tier,
        "claim_by_rung_position": claims,
        "default": default,
        "postModels_by_undelivered_count": undelivered,
        "delivery_and_proofs": proof_gas,
        "deployment": deploy_gas,
        "targets": {
            "createRound<=1M": deploy_gas["createRound_demo_scenario"] <= 1_000_000,  # type: ignore[operator]
            "deliver<=120k": proof_gas["deliver"] <= DELIVERY_TARGETS["deliver"],
            "disputeDelivery<=250k": proof_gas["disputeDelivery"]
            <= DELIVERY_TARGETS["disputeDelivery"],
            "challenge<=400k": proof_gas["challenge_wrong_prediction"]
            <= DELIVERY_TARGETS["challenge"],
            "join<=100k": worst["join"] <= TARGETS["join"],
            "reveal<=50k": worst["reveal"] <= TARGETS["reveal"],
            "claim<=65k": worst["claim"] <= TARGETS["claim"],
            # v2 design: 150k + 30k per tier, plus at most 25k per posted model (its log root;
            # the collective model is one more posted model)
            "postModels<=175k+55k*tiers": all(
                g <= 175_000 + 55_000 * int(n) for n, g in posts.items()
            ),
            "postModels_per_tier<=55k": per_tier <= 55_000,
        },
        "worst": worst,
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "offchain"))
    main()
