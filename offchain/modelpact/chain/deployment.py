"""Deploying rounds as clones, finding a recorded deployment, binding a round at an address, and
reading a round's chain of trust (:mod:`modelpact.audit.clones`) from the node.

The shared contracts (the ``ModelpactProofs`` and ``ModelpactRound`` implementations and the
``ModelpactFactory``) are deployed once per chain (:func:`deploy_shared`); each round is then one
``factory.createRound`` (:func:`deploy_round`). Every transaction hash is recorded in its slot
before waiting, so a re-run after a crash between any two transactions resumes instead of
deploying twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from modelpact.chain.backends.base import Chain
from modelpact.chain.contract import RoundContract
from modelpact.chain.errors import ChainError
from modelpact.chain.transactions import (
    RecordedStep,
    Sender,
    TxResult,
    TxSlot,
    guarded,
    send_transaction,
)
from modelpact.compiler import (
    FACTORY_CONTRACT,
    PROOFS_CONTRACT,
    ROUND_CONTRACT,
    CompiledContract,
    compile_contracts,
)
from modelpact.encoding import CurveKnot, OnchainOption, RoundConfig

if TYPE_CHECKING:
    from modelpact.audit.clones import CodeAt, Creation, References, TrustFacts

__all__ = [
    "SHARED_STEPS",
    "SharedDeployment",
    "deploy_round",
    "deploy_shared",
    "find_deployment",
    "read_shared",
    "read_trust",
    "round_at",
]

SHARED_STEPS = ("proofs", "round", "factory")
"""The shared deployment's transactions, in order (one slot each)."""


class _NoSlot:
    """A slot that forgets: for deployments nobody needs to resume."""

    def get(self) -> str | None:
        return None

    def put(self, tx_hash: str) -> None:
        pass


@dataclass(frozen=True)
class SharedDeployment:
    """The contracts every round of a chain shares: ``factory`` clones ``round_implementation``,
    which DELEGATECALLs ``proofs_implementation``. ``gas_used`` is what deploying them cost now
    (0 when reused); ``tx_hashes`` the three deployments (empty when reused)."""

    factory: str
    round_implementation: str
    proofs_implementation: str
    tx_hashes: tuple[str, ...] = ()
    gas_used: int = 0

    @property
    def reused(self) -> bool:
        """Whether nothing was deployed (an existing, verified factory)."""
        return not self.tx_hashes


def _build() -> Mapping[str, CompiledContract]:
    return compile_contracts()


def deploy_shared(
    chain: Chain,
    *,
    sender: Sender,
    slots: Mapping[str, TxSlot] | None = None,
    contracts: Mapping[str, CompiledContract] | None = None,
) -> SharedDeployment:
    """Deploy the proofs implementation, the round implementation (pointing at it) and the
    factory (cloning it): three transactions, each hash put in ``slots[step]`` (steps:
    :data:`SHARED_STEPS`) before waiting. A re-run with the same slots reuses every recorded,
    successful deployment and sends only the missing ones. ``contracts``: another build to
    deploy (tests of what the guard and the audit refuse); default this checkout's."""
    build = _build() if contracts is None else contracts
    names = dict(
        zip(SHARED_STEPS, (PROOFS_CONTRACT, ROUND_CONTRACT, FACTORY_CONTRACT), strict=True)
    )
    made: list[TxResult] = []
    argument: tuple[str, ...] = ()
    for step, name in names.items():
        art = build[name]
        recorded = RecordedStep(chain, (slots or {}).get(step) or _NoSlot(), f"deploy {name}")
        result = recorded.previous()
        if result is None or result.contract_address is None:
            ctor = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(*argument)
            result = RecordedStep(chain, recorded.slot, recorded.action, abi=art.abi).send(
                lambda ctor=ctor, art=art: send_transaction(  # type: ignore[misc]
                    chain, ctor, sender, abi=art.abi, action=f"deploy {art.name}"
                )
            )
        if result.contract_address is None:
            raise ChainError(
                f"deployment {result.tx_hash} created no contract", hint="check the node logs"
            )
        made.append(result)
        argument = (str(result.contract_address),)
    proofs, impl, factory = (str(r.contract_address) for r in made)
    return SharedDeployment(
        factory=factory,
        round_implementation=impl,
        proofs_implementation=proofs,
        tx_hashes=tuple(r.tx_hash for r in made),
        gas_used=sum(r.gas_used for r in made),
    )


# Shared contracts this process deployed, by chain id, node URL and build: tests and benchmarks
# deploy many rounds on one chain without naming a factory. Checked before every use (a dev node
# restarted, or a fresh embedded chain, no longer has them).
_KNOWN: dict[tuple[int, str, str], SharedDeployment] = {}


def _shared_for(
    chain: Chain, sender: Sender, build: Mapping[str, CompiledContract]
) -> SharedDeployment:
    factory = build[FACTORY_CONTRACT]
    key = (chain.chain_id, str(chain.url), factory.source_digest + factory.runtime_bytecode[-64:])
    known = _KNOWN.get(key)
    if known is not None:
        runtime = bytes.fromhex(factory.runtime_bytecode.removeprefix("0x"))
        made = _implementation_of(chain, known.factory) if _code(chain, known.factory) else None
        if made == known.round_implementation and _code(chain, known.factory) == runtime:
            return known
    shared = deploy_shared(chain, sender=sender, contracts=build)
    _KNOWN[key] = shared
    return shared


def deploy_round(
    chain: Chain,
    *,
    sender: Sender,
    menu_options: Sequence[OnchainOption],
    config: RoundConfig,
    curve: Sequence[CurveKnot] = (),
    coordinator_bond: int = 0,
    compiled: CompiledContract | None = None,
    slot: TxSlot | None = None,
    factory: str | None = None,
    contracts: Mapping[str, CompiledContract] | None = None,
) -> RoundContract:
    """Create a round with ``factory.createRound`` from ``sender`` (the coordinator) with its bond
    as value (without ``factory``: the shared contracts this process deployed on this chain, else
    they are deployed first, from ``contracts`` when given). ``compiled`` is the round's build
    (its ABI binds the round).

    Reverts of ``initialize`` (empty or unsorted menu, bad deadlines, ...) raise
    :class:`~modelpact.chain.errors.ContractRevertError` with the round's named errors. The
    transaction hash is recorded in ``slot`` after broadcasting and before waiting, so a re-run
    after a crash finds the round with :func:`find_deployment` instead of creating another.
    """
    build = _build() if contracts is None else contracts
    art = build[ROUND_CONTRACT] if compiled is None else compiled
    address = factory if factory is not None else _shared_for(chain, sender, build).factory
    fabi = build[FACTORY_CONTRACT].abi
    contract = chain.w3.eth.contract(address=to_checksum_address(address), abi=fabi)
    call = contract.functions.createRound(
        [o.as_tuple() for o in menu_options],
        config.as_tuple(),
        [(k.data_count, k.accuracy_wad) for k in curve],
    )
    errors = [*art.abi, *fabi]  # initialize's reverts bubble up through createRound
    step = RecordedStep(chain, slot or _NoSlot(), "deploy", contract=contract, abi=errors)
    result = step.send(
        lambda: send_transaction(
            chain, call, sender, value=coordinator_bond, abi=errors, action="deploy"
        )
    )
    return _created(chain, result, art.abi)


def _created(chain: Chain, result: TxResult, abi: Sequence[Mapping[str, Any]]) -> RoundContract:
    """The round a successful createRound made (its ``RoundCreated`` event)."""
    made = [e for e in result.events if e.name == "RoundCreated"]
    if not made:
        raise ChainError(
            f"deployment {result.tx_hash} created no round (no RoundCreated event)",
            hint="check the factory address and the node logs",
        )
    round_address = to_checksum_address(str(made[0].args["round"]))
    return RoundContract(
        chain, round_address, [dict(i) for i in abi], result.tx_hash, result.block_number
    )


def find_deployment(
    chain: Chain, slot: TxSlot, abi: Sequence[Mapping[str, Any]]
) -> RoundContract | None:
    """The round the createRound recorded in ``slot`` created (waits while it is pending), or
    None if nothing is recorded, the node never saw it or it failed (then deploying again is
    safe: nothing was created)."""
    tx_hash = slot.get()
    if tx_hash is None:
        return None
    to = _read(chain, "getTransaction", lambda: _transaction_to(chain, tx_hash))
    fabi = _build()[FACTORY_CONTRACT].abi
    contract = None if to is None else chain.w3.eth.contract(address=to, abi=fabi)
    result = RecordedStep(chain, slot, "deploy", contract=contract).previous()
    if result is None:
        return None
    if result.contract_address is not None:  # a round deployed by modelpact <= 0.5's constructor
        return RoundContract(
            chain, result.contract_address, [dict(i) for i in abi], result.tx_hash,
            result.block_number,
        )  # fmt: skip
    return _created(chain, result, abi)


def _transaction_to(chain: Chain, tx_hash: str) -> Any:
    from web3.exceptions import TransactionNotFound

    try:
        return chain.w3.eth.get_transaction(tx_hash).get("to")  # type: ignore[arg-type]
    except TransactionNotFound:
        return None


def round_at(
    chain: Chain, address: str, abi: Sequence[Mapping[str, Any]] | None = None
) -> RoundContract:
    """The round at ``address`` (ABI defaults to the compiled one); checks code is there."""
    checksum = to_checksum_address(address)
    code = _code(chain, checksum)
    if len(code) == 0:
        raise ChainError(
            f"no contract at {checksum} on chain {chain.chain_id}",
            hint="check the address and that you are connected to the right chain",
        )
    use_abi = [dict(i) for i in abi] if abi is not None else _build()[ROUND_CONTRACT].abi
    return RoundContract(chain, checksum, use_abi)


def _read(chain: Chain, action: str, fn: Callable[[], Any]) -> Any:
    return guarded(chain, (), action, fn)


def _code(chain: Chain, address: str) -> bytes:
    checksum = to_checksum_address(address)
    return bytes(_read(chain, "getCode", lambda: chain.w3.eth.get_code(checksum)))


def _implementation_of(chain: Chain, factory: str) -> str | None:
    """``factory.implementation()``, or None when the call fails or returns no address."""
    from modelpact.encoding import keccak256

    selector = "0x" + keccak256(b"implementation()")[:4].hex()
    tx = {"to": to_checksum_address(factory), "data": selector}
    try:
        out = bytes(_read(chain, "implementation", lambda: chain.w3.eth.call(tx)))  # type: ignore[arg-type]
    except (ChainError, ValueError):
        return None
    if len(out) != 32 or any(out[:12]):
        return None
    return str(to_checksum_address("0x" + out[12:].hex()))


def references() -> References:
    """The shared contracts as this build compiles them (what the chain of trust compares)."""
    from modelpact.audit.clones import Reference, References, config_type

    build = _build()

    def ref(name: str) -> Reference:
        c = build[name]
        runtime = bytes.fromhex(c.runtime_bytecode.removeprefix("0x"))
        return Reference(name, runtime, dict(c.immutable_references), dict(c.immutable_names))

    return References(
        round=ref(ROUND_CONTRACT),
        proofs=ref(PROOFS_CONTRACT),
        factory=ref(FACTORY_CONTRACT),
        config_type=config_type(build[ROUND_CONTRACT].abi),
    )


def implementation_codes(
    chain: Chain, ref: References, implementation: str
) -> tuple[CodeAt, CodeAt | None]:
    """(implementation's code, proofs implementation's code): the proofs address is the value
    of the implementation's ``_PROOFS`` immutable (None: not one address)."""
    from modelpact.audit.clones import CodeAt, proofs_of

    impl = CodeAt(implementation, _code(chain, implementation))
    proofs = proofs_of(impl.code, ref.round, implementation)
    return impl, None if proofs is None else CodeAt(proofs, _code(chain, proofs))


def read_shared(chain: Chain, factory: str, ref: References | None = None) -> SharedDeployment:
    """The shared contracts below ``factory``, verified against this build ((b) and (c) of
    :mod:`modelpact.audit.clones`); raises :class:`~modelpact.audit.clones.UntrustedError`
    naming the first broken link and the fix."""
    from eth_utils.address import is_address

    from modelpact.audit.clones import CodeAt, TrustFacts, UntrustedError, shared_problems

    if not is_address(factory):
        raise UntrustedError(
            f"the factory {factory!r} is not an address",
            hint="pass the factory address `modelpact coordinator deploy` printed (0x + 40 hex)",
        )
    ref = references() if ref is None else ref
    checksum = str(to_checksum_address(factory))
    made = _implementation_of(chain, checksum)
    impl, proofs = implementation_codes(chain, ref, made) if made else (None, None)
    facts = TrustFacts(
        round=CodeAt(checksum, b""),
        implementation=impl,
        proofs=proofs,
        factory=CodeAt(checksum, _code(chain, checksum)),
        factory_implementation=made,
    )
    problems = shared_problems(facts, ref, checksum)
    if problems:
        raise UntrustedError(
            problems[0].sentence(),
            hint="pass a factory deployed from this source (omit --factory to deploy one); "
            "nothing was sent",
        )
    assert impl is not None
    assert proofs is not None
    return SharedDeployment(checksum, impl.address, proofs.address)


def read_trust(chain: Chain, *, address: str, tx_hash: str | None, ref: References) -> TrustFacts:
    """Everything along the round's chain of trust, read from the node."""
    from modelpact.audit.clones import CodeAt, TrustFacts, decode_args, split_clone

    checksum = str(to_checksum_address(address))
    round_code = CodeAt(checksum, _code(chain, checksum))
    split = split_clone(round_code.code)
    if split is None:
        return TrustFacts(round=round_code)
    implementation, raw_args = split
    impl, proofs = implementation_codes(chain, ref, implementation)
    args = decode_args(raw_args, ref.config_type)
    factory = None if args is None else CodeAt(args.factory, _code(chain, args.factory))
    return TrustFacts(
        round=round_code,
        implementation=impl,
        proofs=proofs,
        factory=factory,
        factory_implementation=None if args is None else _implementation_of(chain, args.factory),
        creation=_creation(chain, tx_hash) if tx_hash else None,
    )


def _creation(chain: Chain, tx_hash: str) -> Creation | None:
    """The receipt of ``tx_hash`` as a :class:`~modelpact.audit.clones.Creation` (None: the node
    does not know it)."""
    from web3.exceptions import TransactionNotFound

    from modelpact.audit.clones import Creation

    try:
        receipt = _read(
            chain,
            "getReceipt",
            lambda: chain.w3.eth.get_transaction_receipt(tx_hash),  # type: ignore[arg-type]
        )
    except (TransactionNotFound, ValueError):
        return None
    logs = tuple(
        (
            str(to_checksum_address(log["address"])),
            tuple("0x" + bytes(t).hex() for t in log["topics"]),
            bytes(log["data"]),
        )
        for log in receipt["logs"]
    )
    return Creation(tx_hash, int(receipt["status"]), logs)
