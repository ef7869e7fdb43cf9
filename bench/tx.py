"""Transaction cost on anvil, printed as JSON: raw JSON-RPC send-and-confirm next to a project one.

Run: .venv/bin/python bench/tx.py [--count 200]

On one fresh anvil node (automine), median and 90th percentile milliseconds per transaction:
- ``raw`` (interleaved with ``project``, one each in turn, so both see the same load): a
  pre-signed ETH transfer sent with ``eth_sendRawTransaction`` over a keep-alive http.client
  connection, its receipt polled with the same backoff (the floor: node + client);
- ``raw_sync``: the same with ``eth_sendRawTransactionSync`` (EIP-7966: the receipt comes in
  the answer; what the project uses on anvil), the floor of a sync send;
- ``project``: :func:`modelpact.chain.transactions.transfer` (fees, nonce, sign, broadcast) then
  :func:`~modelpact.chain.transactions.wait_for_receipt`, one after the other (and the CPU
  milliseconds of this process per transfer, which a busy machine inflates less);
- ``project_batch``: the same transfers sent back to back with explicit nonces
  (:func:`~modelpact.chain.transactions.send_batch`), then waited for (per transaction);
- ``join`` / ``join_batch``: a round's ``join`` (pre-flight call at the function's gas bound,
  sign, send, receipt, decoded ``Joined`` event) from ``--count`` fresh participants, one after
  the other (with CPU ms per join) / all sent, then all waited for;
- ``raw_join_sync`` (interleaved with ``join``): the same joins of other fresh participants,
  pre-signed and sent raw with ``eth_sendRawTransactionSync``: the node's own cost of a join at
  that chain length (``join_first_block``: anvil's per-transaction cost grows with the number
  of blocks, empty ones too), so ``join`` minus ``raw_join_sync`` is the project's share.
HTTP requests and JSON-RPC calls per transaction are counted at the clients. The load average is
recorded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import time
from collections import Counter
from typing import Any

from eth_account import Account

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends import jsonrpc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.rpc import connect_rpc
from modelpact.chain.transactions import send_batch, transfer, wait_for_receipt

_TO = "0x000000000000000000000000000000000000dEaD"


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "median_ms": round(statistics.median(ms), 3),
        "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 3),
        "total_s": round(sum(ms) / 1000, 3),
    }


def _raw_sender(url: str, key: bytes, chain_id: int, count: int, *, sync: bool = False) -> Any:
    """A function that sends the next of ``count`` pre-signed transfers raw and polls its receipt
    (the project's backoff: busy polling starves the node on a busy machine), or with ``sync``
    sends it with ``eth_sendRawTransactionSync`` (the receipt in the answer); returns ms."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port))

    def rpc(method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())["result"]

    acct = Account.from_key(key)
    fields = {"to": _TO, "value": 1, "gas": 21_000, "chainId": chain_id}
    fees = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
    signed = iter(
        [
            acct.sign_transaction({**fields, **fees, "nonce": i}).raw_transaction.to_0x_hex()
            for i in range(count)
        ]
    )

    def send() -> float:
        raw = next(signed)
        t = time.perf_counter()
        if sync:
            rpc("eth_sendRawTransactionSync", [raw])
            return (time.perf_counter() - t) * 1000
        tx_hash = rpc("eth_sendRawTransaction", [raw])
        pause = 0.0002
        while rpc("eth_getTransactionReceipt", [tx_hash]) is None:
            time.sleep(pause)
            pause = min(2 * pause, 0.05)
        return (time.perf_counter() - t) * 1000

    return send


def _round(chain: ch.Chain, capacity: int) -> ch.RoundContract:
    coordinator = chain.local_account(0)
    scenario = enc.keccak256(b"bench")
    config = enc.RoundConfig(
        capacity=capacity,
        participant_bond=10**17,
        scenario_hash=scenario,
        test_set_commitment=enc.dataset_merkle_root([[0, 1], [1, 0]]),
        coordinator_commitment=enc.coordinator_commitment(
            enc.random_secret(), coordinator.address, scenario, chain.chain_id
        ),
        schedule=enc.Schedule.after(ch.chain_time(chain), join=10**5, post=10**5),
        quorum=1,
        test_row_count=10,
        curve_tolerance_wad=5 * 10**16,
        shortfall_wei_per_wad=10**18,
    )
    return ch.deploy_round(
        chain,
        sender=coordinator,
        menu_options=(enc.OnchainOption(100, 3 * 10**17, 18 * 10**18, 60 * 10**18),),
        config=config,
        curve=[enc.CurveKnot(100, 2 * 10**17), enc.CurveKnot(1000, 8 * 10**17)],
        coordinator_bond=10**18,
    )


def _join_call(rc: ch.RoundContract, who: Any) -> ch.Call:
    return rc.join.call(
        option_id=0,
        data_root=enc.keccak256(who.address.encode()),
        row_count=100,
        commitment=enc.keccak256(b"c" + who.address.encode()),
        value=10**17,
    )


def _raw_joins(url: str, rc: ch.RoundContract, people: list[Any]) -> Any:
    """A function that sends the next of ``people``'s joins, pre-signed (gas limit, fees and
    nonce fixed in advance), with ``eth_sendRawTransactionSync`` and returns ms: the node's
    floor for a join at this chain length, next to the project's (no pre-flight, no decoding)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port))
    signed = []
    for who in people:
        call = _join_call(rc, who)
        data = rc.web3_contract.functions.join(*call.args)._encode_transaction_data()
        tx = {"to": rc.address, "value": call.value, "data": data, "gas": 130_000, "nonce": 0}
        fees = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
        raw = who.sign_transaction({**tx, **fees, "chainId": rc.chain.chain_id}).raw_transaction
        signed.append(raw.to_0x_hex())
    pending = iter(signed)

    def send() -> float:
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": jsonrpc.SEND_SYNC, "params": [next(pending)]}
        )
        t = time.perf_counter()
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        receipt = json.loads(conn.getresponse().read())["result"]
        ms = (time.perf_counter() - t) * 1000
        assert receipt["status"] == "0x1"
        return ms

    return send


def _joins(chain: ch.Chain, url: str, count: int, calls: Counter[str]) -> dict[str, Any]:
    """Per-join milliseconds, one by one (interleaved with pre-signed raw joins) and batched, on
    a fresh round of 3 * count seats."""
    rc = _round(chain, 3 * count)
    people = [Account.create() for _ in range(3 * count)]
    funder = chain.accounts[0]
    for h in send_batch(chain, funder, [(p.address, 10**18) for p in people]):
        wait_for_receipt(chain, h, action="fund")
    raw_join = _raw_joins(url, rc, people[2 * count :])
    height = chain.w3.eth.block_number
    calls.clear()
    one, raw, cpu_s = [], [], 0.0
    for who in people[:count]:
        raw.append(raw_join())  # interleaved: both see the same load and chain length
        t, cpu = time.perf_counter(), time.process_time()
        result = rc.transact(_join_call(rc, who), who)
        one.append((time.perf_counter() - t) * 1000)
        cpu_s += time.process_time() - cpu
        assert [e.name for e in result.events] == ["Joined"]
    join_cpu_ms = cpu_s * 1000 / count
    per_join = {m: round(c / count, 2) for m, c in sorted(calls.items())}
    t = time.perf_counter()
    hashes = [rc.send(_join_call(rc, who), who, nonce=0) for who in people[count : 2 * count]]
    for h in hashes:
        rc.wait(h, action="join")
    batch_ms = (time.perf_counter() - t) * 1000 / count
    assert rc.joined_count() == 3 * count
    return {
        "join_first_block": height,
        "raw_join_sync": _stats(raw),
        "join": _stats(one),
        "join_cpu_ms_per_tx": round(join_cpu_ms, 3),
        "join_batch_ms_per_tx": round(batch_ms, 3),
        "join_rpc_calls_per_tx": per_join,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with AnvilNode() as node:
        chain = connect_rpc(node.rpc_url)
        calls: Counter[str] = Counter()
        original = jsonrpc.JsonRpcClient._exchange

        def counting(self: Any, batch: Any, *, retry: bool) -> Any:
            calls["http_requests"] += 1
            for method, _ in batch:
                calls[str(method)] += 1
            return original(self, batch, retry=retry)

        jsonrpc.JsonRpcClient._exchange = counting  # type: ignore[method-assign, assignment]
        sender = chain.local_account(1)
        key = chain.private_keys[chain.accounts[2]]
        raw_send = _raw_sender(node.rpc_url, key, chain.chain_id, args.count)
        sync_key = chain.private_keys[chain.accounts[4]]
        raw_sync = _raw_sender(node.rpc_url, sync_key, chain.chain_id, args.count, sync=True)
        project, raw, synced, cpu = [], [], [], 0.0
        for _ in range(args.count):  # interleaved: all see the same load
            raw.append(raw_send())
            synced.append(raw_sync())
            t, c = time.perf_counter(), time.process_time()
            wait_for_receipt(chain, transfer(chain, sender, _TO, 1), action="transfer")
            project.append((time.perf_counter() - t) * 1000)
            cpu += time.process_time() - c
        per_tx = {m: round(c / args.count, 2) for m, c in sorted(calls.items())}
        calls.clear()
        batch_sender = chain.local_account(3)
        t = time.perf_counter()
        hashes = send_batch(chain, batch_sender, [(_TO, 1)] * args.count)
        for h in hashes:
            wait_for_receipt(chain, h, action="transfer")
        batch_ms = round((time.perf_counter() - t) * 1000 / args.count, 3)
        joins = _joins(chain, node.rpc_url, args.count, calls)
    print(
        json.dumps(
            {
                "count": args.count,
                "raw": _stats(raw),
                "raw_sync": _stats(synced),
                "project": _stats(project),
                "project_cpu_ms_per_tx": round(cpu * 1000 / args.count, 3),
                "project_batch_ms_per_tx": batch_ms,
                **joins,
                "project_rpc_calls_per_tx": per_tx,
                "load_avg_1m_before": round(load, 2),
                "load_avg_1m_after": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
