"""Crash-safe local state: small typed JSON documents written atomically.

Every workflow step records what it is about to do (e.g. the hash of a transaction it just sent)
before waiting for the result, so a re-run after a crash can look at the chain first instead of
repeating the step. Writes go to a temporary file in the same directory, are fsynced, then
renamed over the target (``os.replace`` is atomic on POSIX), so a reader sees either the old or
the new document, never a torn one.

The state files are typed: :class:`ParticipantProgress`, :class:`CoordinatorProgress` and
:class:`DeploymentIntent`, read and written through :class:`StateFile`, which stores a
``version`` (:data:`STATE_VERSION`), still reads the unversioned files of modelpact 0.1, and
refuses a newer or malformed file with one line saying what to do.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import UnionType
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.chain.transactions import TxSlot

__all__ = [
    "STATE_VERSION",
    "CoordinatorProgress",
    "DeploymentIntent",
    "JsonState",
    "ParticipantProgress",
    "StateError",
    "StateFile",
    "atomic_write_bytes",
    "atomic_write_json",
    "coalesced_state_writes",
]


class StateError(ModelpactError, ValueError):
    """A local state file is corrupt or belongs to another deployment or account."""


_PENDING = threading.local()  # what a coalesced_state_writes block owes: .dirs and .docs


@contextmanager
def coalesced_state_writes(*, hashes: bool = False) -> Iterator[None]:
    """Within the block (one thread), fewer durable writes: a state document's update that is
    not a transaction hash (what a step is about to do, the result of a mined step) stays in
    memory, where every load of that file sees it, until the file's next hash or the block's
    end (one write for several updates); directory fsyncs are made once per directory at the
    end. A transaction hash recorded through a slot (:meth:`StateFile.slot`) is written and
    made durable at once, with the document's pending updates and every rename in its
    directory: the hash is on disk before anyone waits for it. Each file is still fsynced
    before its rename, so a reader sees the old or the new document, never a torn one. A block
    left by an exception still writes what it holds; a process killed inside one loses the
    updates it held, which a re-run rebuilds from the chain (the hash never). Used where many
    participants' files are written back to back by the demo, which starts afresh on every
    run; nothing else (no keystore, no record) is held. A fork inside a block (a
    :mod:`modelpact.parallel` worker) first writes what the block holds, and the child starts
    outside any block: nothing held is written twice or by nobody (:func:`_before_fork`).

    ``hashes``: the transaction hashes are held too, until the block's end, for a caller whose
    transactions are not broadcast before the block has ended (the demo's workers hold their
    broadcasts, :meth:`~modelpact.chain.backends.jsonrpc.JsonRpcClient.held_broadcasts`, and
    return after their block): each hash is still on disk before its transaction goes out, and
    a block that never ended (the process died) held hashes nobody sent. One durable write per
    state file instead of one per hash plus one at the end."""
    if getattr(_PENDING, "dirs", None) is not None:  # nested: the outermost block writes
        yield
        return
    _PENDING.dirs, _PENDING.docs, _PENDING.hashes = set(), {}, hashes
    try:
        yield
    finally:
        try:
            held: dict[Path, Any] = _PENDING.docs
            _PENDING.docs = {}
            for path, document in held.items():
                atomic_write_json(path, document, mode=0o600)
        finally:
            pending: set[Path] = _PENDING.dirs
            _PENDING.dirs = _PENDING.docs = None
            _PENDING.hashes = False
            for directory in sorted(pending):
                _fsync_directory(directory)


def _before_fork() -> None:
    """Write what this thread's block holds before a fork: the child would inherit the held
    documents but never write them (its copy of the block never ends: a worker leaves by
    ``os._exit``), while its own updates of the same files must start from what is on disk.
    The directory fsyncs stay owed by the parent's block."""
    docs: dict[Path, Any] | None = getattr(_PENDING, "docs", None)
    while docs:
        path, document = next(iter(docs.items()))
        atomic_write_json(path, document, mode=0o600)
        del docs[path]  # written: the parent's block no longer owes it


def _in_child() -> None:
    """The forked child starts outside any block: the parent's block owes what it held."""
    _PENDING.dirs = _PENDING.docs = None
    _PENDING.hashes = False


os.register_at_fork(before=_before_fork, after_in_child=_in_child)


def _held(path: Path) -> dict[str, Any] | None:
    """The document a deferring block holds for ``path`` (a copy), or None."""
    docs: dict[Path, Any] | None = getattr(_PENDING, "docs", None)
    if not docs or path.absolute() not in docs:
        return None
    held: dict[str, Any] = json.loads(json.dumps(docs[path.absolute()]))
    return held


def _fsync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _directory_synced(directory: Path, *, now: bool) -> None:
    """Make the renames in ``directory`` durable (now, or at the end of a deferring block)."""
    pending: set[Path] | None = getattr(_PENDING, "dirs", None)
    if pending is None or now:
        if pending is not None:
            pending.discard(directory)
        _fsync_directory(directory)
    else:
        pending.add(directory)


def atomic_write_bytes(
    path: Path, data: bytes, *, mode: int = 0o644, durable_now: bool = False
) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename, fsync the directory;
    within :func:`coalesced_state_writes` the directory fsync waits for the block's end unless
    ``durable_now``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _directory_synced(path.parent, now=durable_now)


def atomic_write_json(
    path: Path, document: Any, *, mode: int = 0o644, durable_now: bool = False
) -> None:
    """Write ``document`` as indented, key-sorted JSON, atomically (``durable_now`` as in
    :func:`atomic_write_bytes`)."""
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode(), mode=mode, durable_now=durable_now)


@dataclass(frozen=True)
class JsonState:
    """A JSON object on disk, updated one atomic write at a time.

    ``identity`` fields (e.g. deployment address and account) are written on first use and checked
    on every load, so a state file is never applied to the wrong round.
    """

    path: Path
    identity: tuple[tuple[str, str], ...] = ()

    def load(self) -> dict[str, Any]:
        """The current document (empty with the identity fields if the file does not exist;
        what a :func:`coalesced_state_writes` block holds for it, if it holds an update)."""
        data = _held(self.path)  # checked like the file: another round's StateFile may ask
        if data is None:
            if not self.path.exists():
                return dict(self.identity)
            try:
                data = json.loads(self.path.read_text())
            except ValueError as error:
                raise StateError(
                    f"local state {self.path} is not valid JSON",
                    hint="restore it from a backup; the chain holds the authoritative state",
                ) from error
        if not isinstance(data, dict):
            raise StateError(f"local state {self.path} is not a JSON object", hint="restore it")
        for key, expected in self.identity:
            if data.get(key) != expected:
                raise StateError(
                    f"local state {self.path} belongs to {key}={data.get(key)!r}, not {expected!r}",
                    hint="pass another --state-dir or the matching deployment/account",
                )
        return data

    def update(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the document and write it atomically; return the new document."""
        return self.rewrite(fields, remove=())

    def rewrite(
        self, fields: dict[str, Any], *, remove: tuple[str, ...], durable_now: bool = False
    ) -> dict[str, Any]:
        """Like :meth:`update`, also deleting the keys ``remove`` (retired fields) in the same
        atomic write (``durable_now`` as in :func:`atomic_write_bytes`)."""
        data = self.load()
        for key in remove:
            data.pop(key, None)
        data.update(fields)
        docs: dict[Path, Any] | None = getattr(_PENDING, "docs", None)
        if docs is not None and (not durable_now or getattr(_PENDING, "hashes", False)):
            docs[self.path.absolute()] = json.loads(json.dumps(data))  # held, not written
            return data
        if docs is not None:
            docs.pop(self.path.absolute(), None)  # written now, with what was held
        atomic_write_json(self.path, data, mode=0o600, durable_now=durable_now)
        return data


# ------------------------------------------------------------------------------------------
# Typed, versioned state files
# ------------------------------------------------------------------------------------------

STATE_VERSION = 2
RETIRED_FIELDS = ("delivery_key",)
"""Fields older modelpact versions wrote and this one no longer keeps. ``delivery_key`` was the
round's delivery secret key in plaintext (issue 15: it must stay protected like the keystore, so
`participant fetch` and `dispute` now derive it from the unlocked keystore): a file that still has
one loads (the value is ignored) and loses it on its next write."""
"""Version written into every typed state file. Version 1 is the unversioned files of
modelpact 0.1: the same fields without a ``version``, read as they are."""


@dataclass(frozen=True)
class ParticipantProgress:
    """A participant's wallet state for one round: its committed dataset, its randomness secret
    (written before anything is sent, so a commitment never outlives its secret), the hash of
    each transaction it sent (written before waiting), and what its claim recorded."""

    deployment: str
    account: str
    secret: str | None = None
    data_root: str | None = None
    row_count: int | None = None
    dataset_file: str | None = None
    dataset_sha256: str | None = None
    rows_file: str | None = None
    option_id: int | None = None
    commitment: str | None = None
    test_set_commitment: str | None = None  # read from the chain at join: what verify checks
    join_tx: str | None = None
    reveal_tx: str | None = None
    claim_tx: str | None = None
    claim_rung: int | None = None
    claim_accuracy_wad: int | None = None
    claim_target_wad: int | None = None
    claim_model_hash: str | None = None
    claim_bond_refund: int | None = None
    claim_slash_share: int | None = None
    claim_compensation: int | None = None
    withdraw_tx: str | None = None
    compensation_tx: str | None = None
    model_file: str | None = None
    verified: bool | None = None
    dispute_tx: str | None = None
    challenge_tx: str | None = None
    round_verified: str | None = None  # keccak of the round's code the wallet checked (11.3)
    version: int = STATE_VERSION


@dataclass(frozen=True)
class CoordinatorProgress:
    """The coordinator's private state for one deployed round: its randomness secret, the
    published test set, and the hash of each transaction it sent (written before waiting)."""

    deployment: str
    secret: str | None = None
    deploy_tx: str | None = None
    test_set_file: str | None = None
    record_path: str | None = None
    reveal_tx: str | None = None
    post_tx: str | None = None
    tier_mode: str | None = None
    models_trained: int | None = None
    collective_model: str | None = None
    tiers: tuple[str, ...] = ()
    cancel_tx: str | None = None
    sweep_tx: str | None = None
    deliveries: tuple[str, ...] = ()  # "<participant> <deliver tx hash>", written before waiting
    challenge_tx: str | None = None
    version: int = STATE_VERSION


@dataclass(frozen=True)
class DeploymentIntent:
    """A deployment of one scenario from one account on one chain, in progress or done: the
    randomness secret and the deploy transaction's hash are written BEFORE waiting, so a re-run
    finishes the recorded deployment instead of deploying twice; the files the commitments cover
    (scenario, menu, public test set: ``plan_dir``) and how the test set was drawn are written
    BEFORE sending, so that re-run publishes exactly what was committed."""

    sender: str
    scenario_hash: str
    secret: str | None = None
    deploy_tx: str | None = None
    record_path: str | None = None
    address: str | None = None
    plan_dir: str | None = None
    dataset: str | None = None
    test_size: int | None = None
    seed: int | None = None
    # The shared contracts' deployments (proofs, round implementation, factory) when this
    # deployment made them: recorded before waiting, like deploy_tx.
    shared_proofs_tx: str | None = None
    shared_round_tx: str | None = None
    shared_factory_tx: str | None = None
    version: int = STATE_VERSION


_S = TypeVar("_S", ParticipantProgress, CoordinatorProgress, DeploymentIntent)


def _accepts(kind: Any, value: Any) -> bool:
    """Whether a JSON ``value`` is of the field type ``kind`` (None, int, str, bool, tuple)."""
    if kind is type(None):
        return value is None
    if get_origin(kind) is tuple:
        return isinstance(value, list | tuple) and all(
            isinstance(v, get_args(kind)[0]) for v in value
        )
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _typed(path: Path, name: str, value: Any, hint: Any) -> Any:
    """``value`` read from JSON as the field's type (lists become tuples); refused otherwise."""
    allowed = get_args(hint) if get_origin(hint) in (UnionType, Union) else (hint,)
    for kind in allowed:
        if _accepts(kind, value):
            return tuple(value) if isinstance(value, list) else value
    raise StateError(
        f"local state {path} field '{name}' has a value of the wrong type: {value!r}",
        hint="the file was edited by hand or is corrupt; restore it from a backup",
    )


_FIELD_TYPES: dict[type, dict[str, Any]] = {
    kind: get_type_hints(kind)
    for kind in (ParticipantProgress, CoordinatorProgress, DeploymentIntent)
}
"""Field types per state class, evaluated once (every workflow step opens state files)."""


class StateFile(Generic[_S]):
    """One typed state file (``kind``, a dataclass above), versioned, updated one atomic write
    at a time; ``identity`` fields are written on first use and checked on every load."""

    def __init__(self, path: Path, kind: type[_S], **identity: str) -> None:
        self.path = path
        self.kind: type[_S] = kind
        self._json = JsonState(path, identity=tuple(identity.items()))
        self._hints = _FIELD_TYPES[kind]

    def load(self) -> _S:
        """The current state (the identity alone when the file does not exist yet)."""
        document = self._json.load()
        version = document.pop("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise StateError(
                f"local state {self.path} has an invalid version {version!r}",
                hint="restore it from a backup; the chain holds the authoritative state",
            )
        if version > STATE_VERSION:
            raise StateError(
                f"local state {self.path} was written by a newer modelpact (state version "
                f"{version}; this one reads up to {STATE_VERSION})",
                hint="upgrade modelpact, or pass another --state-dir",
            )
        for retired in RETIRED_FIELDS:
            document.pop(retired, None)
        unknown = sorted(set(document) - set(self._hints))
        if unknown:
            raise StateError(
                f"local state {self.path} has an unknown field '{unknown[0]}'",
                hint="the file was edited by hand or belongs to another tool; restore it",
            )
        values = {k: _typed(self.path, k, v, self._hints[k]) for k, v in document.items()}
        return self.kind(**values)

    def update(self, *, durable_now: bool = False, **changes: Any) -> _S:
        """Apply ``changes`` (field names of ``kind``, checked) and write the new state
        atomically (``durable_now``: see :func:`coalesced_state_writes`)."""
        unknown = sorted(set(changes) - set(self._hints))
        if unknown:
            raise StateError(f"{self.kind.__name__} has no field {unknown[0]!r}")
        current = replace(self.load(), **changes)
        self._json.rewrite(
            {**asdict(current), "version": STATE_VERSION},
            remove=RETIRED_FIELDS,
            durable_now=durable_now,
        )
        return current

    def slot(self, field_name: str) -> TxSlot:
        """The transaction-hash field ``field_name`` as a :class:`~modelpact.chain.TxSlot`."""
        if set(get_args(self._hints.get(field_name))) != {str, type(None)}:
            raise StateError(f"{self.kind.__name__} has no hash field {field_name!r}")
        return _FieldSlot(self, field_name)

    def keyed_slot(self, field_name: str, key: str) -> TxSlot:
        """The transaction hash of ``key`` in the tuple field ``field_name`` (one per key)."""
        if self._hints.get(field_name) != tuple[str, ...]:
            raise StateError(f"{self.kind.__name__} has no keyed hash field {field_name!r}")
        return _KeyedSlot(self, field_name, key)

    def put_keyed(self, field_name: str, hashes: Mapping[str, str]) -> None:
        """Record the transaction hash of each key of ``hashes`` in the keyed field
        ``field_name`` in ONE durable write: a batch's hashes are all on disk before the first
        of its transactions is sent (one write of the document instead of one per key)."""
        if self._hints.get(field_name) != tuple[str, ...]:
            raise StateError(f"{self.kind.__name__} has no keyed hash field {field_name!r}")
        entries = _keyed_entries(self, field_name)
        entries.update({k.lower(): v for k, v in hashes.items()})
        pairs = tuple(f"{k} {v}" for k, v in sorted(entries.items()))
        self.update(durable_now=True, **{field_name: pairs})  # before any is sent


@dataclass(frozen=True)
class _KeyedSlot:
    """The transaction hash of one ``key`` (e.g. a participant) in a tuple field of
    ``"<key> <hash>"`` entries: one recorded transaction per key."""

    state: StateFile[Any]
    field_name: str
    key: str

    def get(self) -> str | None:
        return _keyed_entries(self.state, self.field_name).get(self.key.lower())

    def put(self, tx_hash: str) -> None:
        self.state.put_keyed(self.field_name, {self.key: tx_hash})  # durable before any wait


def _keyed_entries(state: StateFile[Any], field_name: str) -> dict[str, str]:
    """The ``"<key> <hash>"`` entries of a keyed hash field, by lowercase key."""
    pairs = (str(e).split(" ", 1) for e in getattr(state.load(), field_name))
    return {k.lower(): v for k, v in (p for p in pairs if len(p) == 2)}


@dataclass(frozen=True)
class _FieldSlot:
    """One transaction-hash field of a state file."""

    state: StateFile[Any]
    field_name: str

    def get(self) -> str | None:
        value = getattr(self.state.load(), self.field_name)
        return None if value is None else str(value)

    def put(self, tx_hash: str) -> None:
        self.state.update(durable_now=True, **{self.field_name: tx_hash})  # before any wait
