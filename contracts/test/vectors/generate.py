"""Regenerate the golden vectors shared by Foundry and pytest from `modelpact.encoding`.

Run: .venv/bin/python contracts/test/vectors/generate.py
(writes encoding.json from `modelpact.encoding` and delivery.json from `modelpact.delivery` next to it)

Every input is derived deterministically from labels, so re-running gives the same file; a diff
after a change to encoding.py means the Python side no longer matches what Foundry checks.
"""

from __future__ import annotations

import json
from pathlib import Path

from modelpact import delivery as dlv
from modelpact import encoding as enc

OUT = Path(__file__).with_name("encoding.json")
OUT_DELIVERY = Path(__file__).with_name("delivery.json")


def h(label: str) -> bytes:
    return enc.keccak256(label.encode())


def addr(label: str) -> str:
    return "0x" + h(label)[-20:].hex()


def hx(b: bytes) -> str:
    return "0x" + b.hex()


def build() -> dict[str, object]:
    commitments = []
    for i in range(3):
        secret, who, rnd, chain = h(f"p-secret-{i}"), addr(f"p-{i}"), addr(f"round-{i}"), [1, 31337, 131277322940537][i]
        commitments.append({"secret": hx(secret), "participant": who, "round": rnd, "chainId": str(chain),
                            "commitment": hx(enc.participant_commitment(secret, who, rnd, chain))})
    coord = []
    for i in range(3):
        secret, who, scen, chain = h(f"c-secret-{i}"), addr(f"c-{i}"), h(f"scenario-{i}"), [1, 31337, 5][i]
        coord.append({"secret": hx(secret), "coordinator": who, "scenarioHash": hx(scen), "chainId": str(chain),
                      "commitment": hx(enc.coordinator_commitment(secret, who, scen, chain))})
    seeds = []
    for i, index in enumerate([0, 1, 999, 2**32 - 1]):
        cs, ps, rnd = h(f"cs-{i}"), h(f"ps-{i}"), addr(f"round-seed-{i}")
        seeds.append({"coordinatorSecret": hx(cs), "participantSecret": hx(ps), "round": rnd, "index": str(index),
                      "seed": hx(enc.draw_seed(cs, ps, rnd, index))})
    rows = [[i, -3 * i + 7, 2**200 if i == 5 else i * i, -(2**255) if i == 2 else i % 3] for i in range(13)]
    tree = enc.StandardMerkleTree.of(rows)
    leaves = [{"index": str(i), "values": [str(v) for v in row], "leaf": hx(enc.leaf_hash(i, row))} for i, row in enumerate(rows[:4])]
    merkle = {"rowCount": str(len(rows)), "root": hx(tree.root),
              "rows": [{"index": str(i), "values": [str(v) for v in row], "proof": [hx(p) for p in tree.proof(i)]}
                       for i, row in enumerate(rows)]}
    single = [[42, 1, 2]]
    merkle_single = {"root": hx(enc.dataset_merkle_root(single)), "index": "0", "values": ["42", "1", "2"]}
    wad = [{"text": t, "wad": str(enc.to_wad(float(t)))} for t in ["0", "0.1", "0.25", "0.3333333333333333", "0.9999999999999999", "1", "1e-18", "0.7"]]
    targets = []
    for ratio, coll in [(10**18, 9 * 10**17), (333333333333333333, 912345678901234567), (1, 1), (10**18 - 1, 10**18), (5 * 10**17, 1)]:
        targets.append({"ratioWad": str(ratio), "collectiveWad": str(coll), "targetWad": str(enc.target_accuracy(ratio, coll))})
    draws = []
    cases = [
        (6 * 10**17, 9 * 10**17, [2 * 10**17, 5 * 10**17, 6 * 10**17]),
        (6 * 10**17, 9 * 10**17, [2 * 10**17, 54 * 10**16]),
        (10**18, 9 * 10**17, [3 * 10**17]),
        (10**17, 8 * 10**17, [5 * 10**17]),
        (0, 8 * 10**17, [5 * 10**17]),
        (777777777777777777, 876543210987654321, [10**17 * k + 12345 for k in range(1, 9)]),
        (5 * 10**17, 10**18, []),
        (999999999999999999, 10**18, [10**18 - 2]),
    ]
    for i, (ratio, coll, tiers) in enumerate(cases):
        for j in range(3):
            seed = h(f"draw-{i}-{j}")
            a = enc.assign_rung(ratio, coll, tiers, seed)
            p = enc.hi_probability(ratio, coll, tiers)
            draws.append({"ratioWad": str(ratio), "collectiveWad": str(coll), "tiers": [str(t) for t in tiers],
                          "seed": hx(seed), "rung": str(a.rung), "accuracyWad": str(a.accuracy_wad),
                          "targetWad": str(a.target_wad), "hiProbNum": str(p.numerator), "hiProbDen": str(p.denominator)})
    knots = [(100, 2 * 10**17), (1000, 7 * 10**17), (5000, 65 * 10**16), (20000, 9 * 10**17)]
    curve = {"dataCounts": [str(x) for x, _ in knots], "accuracies": [str(y) for _, y in knots],
             "queries": [{"dataCount": str(q), "accuracyWad": str(enc.predicted_accuracy(knots, q))}
                         for q in [0, 1, 37, 100, 101, 999, 1000, 1234, 4999, 5000, 7777, 20000, 10**9]]}
    return {"commitments": commitments, "coordinatorCommitments": coord, "drawSeeds": seeds, "leaves": leaves,
            "merkle": merkle, "merkleSingle": merkle_single, "wad": wad, "targets": targets, "draws": draws, "curve": curve,
            **build_v2()}


def build_v2() -> dict[str, object]:
    """ModelpactRound v2 preimages and arithmetic (the new names in modelpact.encoding; the
    commitment carrying the delivery key and the curve points are in delivery.json)."""
    owner, other = addr("v2-owner"), addr("v2-copier")
    rows = [[i, 5 - 2 * i, -(2**255) if i == 3 else i * 7, 2**200 if i == 6 else 1] for i in range(11)]
    tree = enc.StandardMerkleTree.of_participant(owner, rows)
    p_leaves = [{"participant": owner, "index": str(i), "values": [str(v) for v in row],
                 "leaf": hx(enc.participant_leaf_hash(owner, i, row))} for i, row in enumerate(rows[:3])]
    p_merkle = {"participant": owner, "copier": other, "rowCount": str(len(rows)), "root": hx(tree.root),
                "copierRoot": hx(enc.participant_dataset_root(other, rows)),
                "rows": [{"index": str(i), "values": [str(v) for v in row], "proof": [hx(q) for q in tree.proof(i)]}
                         for i, row in enumerate(rows)]}
    counts = [{"count": str(c), "testRowCount": str(t), "accuracyWad": str(enc.accuracy_of_count(c, t))}
              for c, t in [(0, 1), (1, 1), (3, 7), (6, 7), (449, 450), (1797, 1797), (123456789, 10**18), (1, 3)]]
    ratios = [{"promisedValueWad": str(t), "budgetValueWad": str(tb), "ratioWad": str(enc.option_ratio_wad(t, tb))}
              for t, tb in [(20 * 10**18, 80 * 10**18), (10**18, 3 * 10**18), (0, 0), (7, 7), (1, 10**30),
                            (123456789123456789, 987654321987654321)]]
    money = []
    for bond, d, ratio, pred, meas, tol, rho in [
        (10**18, 3, 6 * 10**17, 6 * 10**17, 5 * 10**17, 2 * 10**16, 10**16),
        (10**18 + 7, 7, 333333333333333333, 9 * 10**17, 81 * 10**16, 10**16, 3 * 10**18),
        (5 * 10**17, 1, 10**18, 95 * 10**16, 10**17, 0, 10**40),
        (123456789, 4, 25 * 10**16, 5 * 10**17, 5 * 10**17, 10**16, 10**20),
        (0, 2, 10**18, 10**18, 1, 0, 10**18),
        (2**96 - 1, 2**32 - 1, 10**18 - 1, 10**18, 0, 0, 2**200),
    ]:
        allotted = enc.allot(bond, d)
        short = enc.curve_shortfall(pred, meas, tol)
        money.append({"coordinatorBond": str(bond), "delivered": str(d), "ratioWad": str(ratio),
                      "predictedWad": str(pred), "measuredWad": str(meas), "toleranceWad": str(tol),
                      "weiPerWad": str(rho), "fraudReward": str(enc.fraud_reward(bond)), "allot": str(allotted),
                      "shortfallWad": str(short),
                      "compensation": str(enc.curve_compensation(ratio, short, rho, allotted))})
    shares = [{"forfeited": str(f), "bond": str(b), "recipients": str(r), "share": str(enc.forfeit_share(f, b, r))}
              for f, b, r in [(2, 10**17, 3), (0, 10**17, 5), (5, 10**16, 0), (2**32 - 1, 2**96 - 1, 7)]]
    return {"v2Leaves": p_leaves, "v2Merkle": p_merkle, "v2Counts": counts, "v2Ratios": ratios, "v2Money": money,
            "v2Shares": shares}


# ------------------------------------------------------------------------------------------
# delivery.json: per-round key derivation, the v2 commitment and the delivery cipher (issue 15)
# ------------------------------------------------------------------------------------------


def _candidates(account_key: bytes, rnd: str, chain: int) -> int:
    """How many delivery-key candidates the derivation hashes (restated here so that Foundry,
    which recomputes the loop, also checks the rejection rule and not only its result)."""
    root = dlv.round_key(account_key=account_key, round_address=rnd, chain_id=chain)
    count = 0
    while True:
        c = int.from_bytes(enc.keccak256(root + dlv.DELIVERY_KEY_LABEL + count.to_bytes(32, "big")), "big") % 2**254
        count += 1
        if 1 <= c < dlv.GROUP_ORDER:
            return count


def _derivations() -> list[dict[str, object]]:
    # Four plain cases plus the first labels whose first candidate is rejected (1 in 4 are).
    inputs = [(h(f"account-{i}"), addr(f"d-round-{i}"), [1, 31337, 10, 2**64 + 5][i]) for i in range(4)]
    j = 0
    while sum(_candidates(*x) > 1 for x in inputs) < 2:
        x = (h(f"account-rejected-{j}"), addr(f"d-round-rejected-{j}"), 31337)
        if _candidates(*x) > 1:
            inputs.append(x)
        j += 1
    out = []
    for key, rnd, chain in inputs:
        kw = {"account_key": key, "round_address": rnd, "chain_id": chain}
        pair = dlv.delivery_key_pair(**kw)
        out.append({"accountKey": hx(key), "round": rnd, "chainId": str(chain), "roundKey": hx(dlv.round_key(**kw)),
                    "randomnessSecret": hx(dlv.randomness_secret(**kw)), "candidates": str(_candidates(key, rnd, chain)),
                    "deliverySecretKey": str(pair.secret_key), "publicKeyX": str(pair.public_key.x),
                    "publicKeyY": str(pair.public_key.y)})
    return out


def _plaintext(length: int, label: str) -> bytes:
    return b"".join(h(f"{label}-{length}-{j}") for j in range(length // 32 + 1))[:length]


def _cipher(sk: int, e: int, plaintext: bytes) -> dict[str, object]:
    pub = dlv.public_key(sk)
    d = dlv.encrypt(plaintext=plaintext, recipient=pub, ephemeral_secret=e)
    s = dlv.shared_point(sk, d.ephemeral)
    return {"secretKey": str(sk), "publicKeyX": str(pub.x), "publicKeyY": str(pub.y), "ephemeralSecret": str(e),
            "ephemeralX": str(d.ephemeral.x), "ephemeralY": str(d.ephemeral.y), "sharedX": str(s.x), "sharedY": str(s.y),
            "plaintext": hx(plaintext), "keystream": hx(dlv.keystream(s, len(plaintext))), "ciphertext": hx(d.ciphertext)}


def build_delivery() -> dict[str, object]:
    n, p = dlv.GROUP_ORDER, dlv.FIELD_MODULUS
    ciphers = []
    for i, length in enumerate([0, 1, 31, 32, 33, 63, 64, 65, 2700]):
        sk = dlv.delivery_secret_key(account_key=h(f"c-account-{i}"), round_address=addr(f"c-round-{i}"), chain_id=1)
        ciphers.append(_cipher(sk, 1 + int.from_bytes(h(f"ephemeral-{i}"), "big") % (n - 1), _plaintext(length, "model")))
    ciphers.append(_cipher(1, n - 1, _plaintext(40, "edge-a")))  # extreme scalars both sides
    ciphers.append(_cipher(n - 1, 1, _plaintext(40, "edge-b")))
    ciphers.append(_cipher(2, 2, bytes(33)))  # all-zero plaintext: ciphertext = keystream
    commitments = []
    for i in range(3):
        pub = dlv.public_key(1 + int.from_bytes(h(f"v2-key-{i}"), "big") % (n - 1))
        secret, who, rnd, chain = h(f"v2-secret-{i}"), addr(f"v2-p-{i}"), addr(f"v2-round-{i}"), [1, 31337, 8453][i]
        commitments.append({"secret": hx(secret), "deliveryKeyX": str(pub.x), "deliveryKeyY": str(pub.y),
                            "participant": who, "round": rnd, "chainId": str(chain),
                            "commitment": hx(enc.participant_commitment_v2(secret, pub.x, pub.y, who, rnd, chain))})
    invalid_points = [(0, 0), (1, 3), (0, 1), (1, p - 1), (1 + p, 2), (1, 2 + p), (p, 0), (2**256 - 1, 2**256 - 1),
                      (dlv.public_key(7).x, dlv.public_key(7).y + 1)]
    return {"constants": {"fieldModulus": str(p), "groupOrder": str(n), "roundKeyLabel": hx(dlv.ROUND_KEY_LABEL),
                          "randomnessLabel": hx(dlv.RANDOMNESS_LABEL), "deliveryKeyLabel": hx(dlv.DELIVERY_KEY_LABEL)},
            "derivations": _derivations(), "commitments": commitments, "ciphers": ciphers,
            "invalidPoints": [{"x": str(x), "y": str(y)} for x, y in invalid_points],
            "invalidScalars": [str(v) for v in [0, n, n + 1, 2 * n, 2**256 - 1]]}


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUT}")
    OUT_DELIVERY.write_text(json.dumps(build_delivery(), indent=1) + "\n")
    print(f"wrote {OUT_DELIVERY}")
