"""A deployed round as the workflows see it: the deployment record bound to the round contract
on an open chain, and the crash-safe transaction step every workflow shares.

Everything that talks to the node -- views, transactions, receipts, revert decoding -- goes
through :mod:`modelpact.chain`; this module adds what a workflow step needs on top: where the
record's published files are, and :meth:`DeployedRound.send_recorded` /
:meth:`DeployedRound.recorded` (send a transaction, record its hash in the local state BEFORE
waiting; on a re-run look at the recorded transaction first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelpact.chain.backends import ChainKind, ChainSettings, ChainSettingsError, open_chain
from modelpact.errors import ModelpactError
from modelpact.round.records import DeploymentRecord, UnknownDeploymentError, find_record

if TYPE_CHECKING:
    from modelpact.chain import Call, Chain, RoundContract, RoundEvent, Sender, TxResult, TxSlot
    from modelpact.chain.contract import PreparedCall
    from modelpact.encoding import Phase

__all__ = ["ChainMismatchError", "DeployedRound", "StepResult", "open_round"]


class ChainMismatchError(ModelpactError, ValueError):
    """The node is not the chain the deployment record names, or has no code at the address."""


@dataclass(frozen=True)
class StepResult:
    """The outcome of a recorded step: its transaction, and whether it had already happened
    (then nothing was sent; ``gas_used`` is the recorded transaction's when known, else 0)."""

    tx_hash: str | None
    already_done: bool
    gas_used: int


@dataclass(frozen=True)
class DeployedRound:
    """A deployed round on its open chain: ``contract`` for typed views and actions, ``record``
    (read from ``record_path``) for what was published at deployment."""

    chain: Chain
    contract: RoundContract
    record: DeploymentRecord
    record_path: Path

    @classmethod
    def bind(cls, chain: Chain, record: DeploymentRecord, record_path: Path) -> DeployedRound:
        """Bind ``record`` to ``chain``; check the chain id and that code exists at the address."""
        from modelpact.chain import ChainError, NodeUnavailableError, RoundContract, round_at

        if not any(isinstance(e, dict) and e.get("type") == "function" for e in record.abi):
            raise UnknownDeploymentError(  # web3 would fail with a traceback on such an ABI
                f"deployment record {record_path.name} field 'abi' holds no contract function "
                f"({len(record.abi)} entries)",
                hint="the record was edited or truncated; restore it from the deployment output",
            )
        if chain.chain_id != record.chain_id:
            raise ChainMismatchError(
                f"the node is chain {chain.chain_id} but the deployment is on chain "
                f"{record.chain_id}",
                hint="connect to the chain named in the deployment record (--rpc / --chain)",
            )
        try:
            found = round_at(chain, record.address, record.abi)
        except NodeUnavailableError:
            raise
        except ChainError as error:
            raise ChainMismatchError(
                f"no contract at {record.address} on chain {chain.chain_id}",
                hint="the node was restarted without its state; use --chain anvil with the same "
                "--state-dir, or redeploy",
            ) from error
        contract = RoundContract(
            chain, found.address, found.abi, record.tx_hash or None, record.block_number
        )
        return cls(chain, contract, record, record_path.resolve())

    @property
    def address(self) -> str:
        """The round's checksummed address."""
        return str(self.record.address)

    @property
    def base(self) -> Path:
        """The directory relative paths of the record resolve against."""
        return self.record_path.parent

    @property
    def files_dir(self) -> Path:
        """Directory of the published files (scenario, menu, test set, models, delivered data)."""
        return self.record.files_dir(self.base)

    @property
    def models_dir(self) -> Path:
        """The coordinator's content-addressed model store."""
        return self.record.models_dir(self.base)

    @property
    def test_set_path(self) -> Path:
        """The published public test set."""
        return self.record.test_set_path(self.base)

    def phase(self) -> Phase:
        """The current phase (as the contract derives it from the last block)."""
        return self.contract.phase()

    def is_participant(self, account: str) -> bool:
        """Whether ``account`` has joined (``NotParticipant`` reverts mean no)."""
        from modelpact.chain import ContractRevertError

        try:
            self.contract.participant(account)
        except ContractRevertError as error:
            if error.error_name == "NotParticipant":
                return False
            raise
        return True

    def latest_timestamp(self) -> int:
        """Timestamp of the latest block."""
        return self.chain.time()

    def events(self, name: str, *, participant: str | None = None) -> list[RoundEvent]:
        """Every event called ``name`` since the deployment block, in chain order (with
        ``participant``: only that participant's, filtered by the node on its indexed topic)."""
        return self.contract.events(
            self.record.block_number, names=(name,), participant=participant
        )

    def send_recorded(
        self, call: Call, sender: Sender, slot: TxSlot, *, prepared: PreparedCall | None = None
    ) -> TxResult:
        """Send ``call``, record its hash in ``slot`` before waiting, return the result
        (``prepared``: ``call`` already pre-flighted with the step's reads,
        :meth:`~modelpact.chain.RoundContract.prepare`; used only if it is this call).

        Reverts (at gas estimation or in the receipt) raise
        :class:`modelpact.chain.ContractRevertError` with the contract's named error.
        """
        step = self.contract.step(slot, call.function)
        return step.send(self._sender(call, sender, prepared))

    def start_recorded(
        self, call: Call, sender: Sender, slot: TxSlot, *, prepared: PreparedCall | None = None
    ) -> str:
        """Send ``call`` and record its hash in ``slot``, without waiting: the step's re-run
        (:meth:`recorded`) waits for it. Lets independent transactions (many participants) go
        out back to back and be waited for afterwards. ``prepared`` as in
        :meth:`send_recorded`."""
        return self.contract.step(slot, call.function).start(self._sender(call, sender, prepared))

    def _sender(
        self, call: Call, sender: Sender, prepared: PreparedCall | None
    ) -> Callable[[], str]:
        """What broadcasts ``call``: the pre-flighted one when ``prepared`` is exactly this
        call, else a fresh build (:meth:`~modelpact.chain.RoundContract.send`)."""
        if prepared is not None and prepared.call == call:
            return prepared.send
        return lambda: self.contract.send(call, sender)

    def recorded(self, slot: TxSlot, action: str) -> TxResult | None:
        """The result of the transaction recorded in ``slot`` if the node knows it and it
        succeeded (waits while it is pending); None otherwise (then the step may be sent
        again: the chain state decides what happens)."""
        return self.contract.step(slot, action).previous()

    def already_done(self, slot: TxSlot, action: str) -> StepResult | None:
        """:meth:`recorded` as the result of a step a re-run need not send again."""
        done = self.recorded(slot, action)
        return None if done is None else StepResult(done.tx_hash, True, done.gas_used)


@contextmanager
def open_round(
    settings: ChainSettings, *, deployment: str, deploy_dir: Path
) -> Iterator[DeployedRound]:
    """Find the deployment record (path, address or ``latest``), open the chain, bind the round."""
    if settings.kind is ChainKind.EMBEDDED:
        raise ChainSettingsError(
            "the embedded chain lives inside one process, so this command cannot reach a round "
            "deployed by another command",
            hint="use --chain anvil (a node kept in --state-dir) or --rpc URL; "
            "`modelpact demo` runs a whole round on the embedded chain",
        )
    record, record_path = find_record(deployment, deploy_dir=deploy_dir)
    with open_chain(settings) as chain:
        yield DeployedRound.bind(chain, record, record_path)
