// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {IModelpactRound} from "./interfaces/IModelpactRound.sol";
import {IModelpactFactory} from "./interfaces/IModelpactFactory.sol";
import {ModelpactFactory} from "./ModelpactFactory.sol";
import {RoundCore} from "./RoundCore.sol";
import {DeliveryCipher} from "./libraries/DeliveryCipher.sol";
import {RoundMath} from "./libraries/RoundMath.sol";

/// @title ModelpactRound
/// @notice One round of collaborative machine learning paid with models. See {IModelpactRound} for
///         the phases, windows, fixed-point scales, hash preimages and the money rules.
/// @dev    Gas layout (targets: join <= 100k, reveal <= 50k, claim <= 65k, postModels <= 150k +
///         30k per tier + 25k per posted model):
///           - the counters and flags every per-participant action reads live in ONE packed slot
///             (`_state`), made non-zero at deployment (`unswept`) so the first join does not pay a
///             fresh-slot write;
///           - each participant uses two slots: its entry keyed by address (flags and what it was
///             paid out of the coordinator's bond) and its randomness commitment keyed by its DATA
///             ROOT. Keying the commitment by the root refuses a duplicate root for free (the
///             slot is written anyway) and never needs overwriting: no draw seed is stored, reveal
///             and claim recompute it from the secret;
///           - each option's target accuracy and upper rung (its bracket) are fixed at post and
///             stored in the option's first slot, read by a claim anyway: a claim reads the two
///             rungs it draws between, never searches, and needs no multiplication;
///           - an option's curve compensation is read only when the curve check found a shortfall
///             (a flag in `_state`); rung accuracies are packed four to a slot.
///         Every per-participant action is O(1); loops run only over the menu (<= 64 options), the
///         tiers (<= 32), the curve knots (<= 64) and, at post or cancel, the undelivered list.
///         Configuration is read through internal getters (`_participantBond()`, ...): since
///         issue 17 a round is a clone of this contract created by ModelpactFactory, and each
///         getter reads one word of the clone's immutable args (RoundCore._arg, ~110 gas).
///         Interactions (ETH transfers) happen last, behind OpenZeppelin's transient reentrancy
///         guard (EIP-1153, same semantics as `ReentrancyGuard` at ~100 gas instead of ~5k).
contract ModelpactRound is RoundCore, IModelpactRound {
    // ------------------------------------------------------------------------------------------
    // Immutables (shared by every clone: nothing per-round)
    // ------------------------------------------------------------------------------------------

    /// @dev The ModelpactProofs implementation every call of its half is forwarded to.
    address private immutable _PROOFS;
    /// @dev keccak256 of ModelpactFactory's runtime code: `initialize` accepts only a caller that
    ///      runs it (and is the factory the clone's args name).
    bytes32 private immutable _FACTORY_CODEHASH;

    // ------------------------------------------------------------------------------------------
    // Constructor (the shared implementation) and initialize (each round, a clone)
    // ------------------------------------------------------------------------------------------

    /// @param proofsImplementation the shared ModelpactProofs implementation (must have code).
    /// @dev   The implementation itself is never initialized (NotAClone) and stays empty: no
    ///        menu, so nobody can join it, and nothing in it can be claimed or swept.
    constructor(address proofsImplementation) {
        if (proofsImplementation.code.length == 0) {
            revert IModelpactFactory.ImplementationHasNoCode(proofsImplementation);
        }
        _PROOFS = proofsImplementation;
        // ModelpactFactory has no immutables: its runtime code is the same in every deployment.
        _FACTORY_CODEHASH = keccak256(type(ModelpactFactory).runtimeCode);
    }

    /// @inheritdoc IModelpactRound
    /// @dev Who may call is checked here (this contract's immutables); the body runs in
    ///      ModelpactProofs (the round's runtime would not fit EIP-170 with it).
    function initialize(Option[] calldata, CurveKnot[] calldata) external payable override {
        if (address(this).code.length != _CLONE_CODE_LENGTH) revert NotAClone(address(this));
        address factory_ = _factory();
        if (msg.sender != factory_ || msg.sender.codehash != _FACTORY_CODEHASH) {
            revert NotFactory(msg.sender, factory_);
        }
        _extend();
    }

    // ------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IModelpactRound
    function join(uint8 optionId, bytes32 dataRoot, uint64 rowCount, bytes32 commitment) external payable override {
        State memory s = _state;
        uint256 capacity_ = _capacity();
        if (block.timestamp > _joinDeadline() || s.joined >= capacity_) {
            revert JoinClosed(block.timestamp, _joinDeadline(), s.joined, capacity_);
        }
        Entry storage entry = _entries[msg.sender];
        if (entry.joined) revert AlreadyJoined(msg.sender);
        if (optionId >= _options.length) revert UnknownOption(optionId, _options.length);
        StoredOption storage o = _options[optionId];
        uint64 required = o.dataCount;
        if (rowCount != required) revert WrongRowCount(optionId, required, rowCount);
        if (msg.value != _participantBond()) revert WrongBond(_participantBond(), msg.value);
        if (dataRoot == 0 || commitment == 0) revert ZeroCommitment();
        if (_commitments[dataRoot] != 0) revert DuplicateDataRoot(dataRoot);

        uint32 index = s.joined;
        uint64 newTotal;
        // unchecked: index < capacity <= type(uint32).max; joinCount <= joined < capacity; and the
        // initialize checked capacity * (largest dataCount) <= type(uint64).max, so the total of
        // at most `capacity` row counts cannot overflow.
        unchecked {
            newTotal = s.totalData + required;
            _state.joined = index + 1;
            _state.delivered = index + 1;
            o.joinCount += 1;
        }
        // Field by field: a whole-struct copy would write every member (one SSTORE each).
        _state.totalData = newTotal;
        // The join that fills the round closes joining: the data window (issue 11.7) runs from
        // now. `postedAt` is unused until the post, which overwrites it (same slot: no new SSTORE).
        if (index + 1 >= capacity_) _state.postedAt = uint40(block.timestamp);
        entry.index = index;
        entry.optionId = optionId;
        entry.joined = true;
        // Bound to the joiner (never 0: a keccak256 output), see `_bindCommitment`.
        _commitments[dataRoot] = _bindCommitment(commitment, msg.sender);

        emit Joined(msg.sender, index, optionId, dataRoot, rowCount, commitment, msg.value, newTotal);
    }

    /// @inheritdoc IModelpactRound
    function revealCoordinator(bytes32 secret) external override onlyCoordinator {
        State memory s = _state;
        if (s.coordinatorRevealed) revert CoordinatorAlreadyRevealed();
        _requirePhase(s, Phase.Post);
        bytes32 computed = keccak256(abi.encode(secret, _coordinator(), _scenarioHash(), block.chainid));
        if (computed != _coordinatorCommitment()) revert CoordinatorRevealMismatch(_coordinatorCommitment(), computed);

        _state.coordinatorRevealed = true;
        _coordinatorSecret = secret;

        emit CoordinatorRevealed(secret);
    }

    /// @inheritdoc IModelpactRound
    function postModels(
        PostedModel calldata collective,
        PostedModel[] calldata tiers,
        address[] calldata undelivered,
        bytes[] calldata logs
    ) external override {
        // Ten reads of the clone's args below: one EXTCODECOPY of all of them instead.
        uint256[_ARGS_WORDS] memory a = _allArgs();
        if (msg.sender != address(uint160(a[_ARG_COORDINATOR]))) revert NotCoordinator(msg.sender);
        State memory s = _state;
        _requirePostable(s, a);
        if (!s.coordinatorRevealed) revert CoordinatorNotRevealed();
        uint256 n = tiers.length;
        if (n > MAX_TIERS) revert TooManyTiers(n, MAX_TIERS);
        if (logs.length != n + 1) revert LogCountMismatch(logs.length, n + 1);
        _storeModels(collective, tiers, logs, a[_ARG_TEST_ROW_COUNT]);

        uint256[] memory lostByOption = _markUndelivered(s, undelivered);
        uint256 quorum_ = a[_ARG_QUORUM];
        if (s.delivered < quorum_) revert BelowQuorum(s.delivered, quorum_);

        s.posted = true;
        s.postedAt = uint40(block.timestamp);
        // n <= MAX_TIERS = 32 fits a uint8.
        // forge-lint: disable-next-line(unsafe-typecast)
        s.tierCount = uint8(n);
        s.hasShortfall = _checkCurve(s, collective.accuracyWad, lostByOption, a);
        _state = s;

        emit ModelsPosted(collective, tiers, s.delivered, s.totalData, block.timestamp + a[_ARG_REVEAL_WINDOW]);
    }

    /// @inheritdoc IModelpactRound
    function cancelBelowQuorum(address[] calldata undelivered) external override onlyCoordinator {
        State memory s = _state;
        _requirePostable(s, _allArgs());
        _markUndelivered(s, undelivered);
        if (s.delivered >= _quorum()) revert QuorumReached(s.delivered, _quorum());
        s.cancelled = true;
        _state = s;

        emit RoundCancelled(s.joined, s.delivered, _quorum(), _burned(s));
    }

    /// @inheritdoc IModelpactRound
    function reveal(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY) external override {
        State memory s = _state;
        _requirePhase(s, Phase.Reveal);
        Entry storage entry = _entries[msg.sender];
        if (!entry.joined) revert NotParticipant(msg.sender);
        if (entry.undelivered) revert ParticipantUndelivered(msg.sender);
        if (entry.revealed) revert AlreadyRevealed(msg.sender);
        _checkCommitment(dataRoot, secret, deliveryKeyX, deliveryKeyY);
        // An off-curve P has no secret key: nothing delivered to it could be decrypted or disputed.
        if (!DeliveryCipher.isValidPoint(deliveryKeyX, deliveryKeyY)) {
            revert InvalidDeliveryKey(deliveryKeyX, deliveryKeyY);
        }

        uint32 index = entry.index;
        bytes32 seed = _drawSeed(secret, index);
        entry.revealed = true;
        // unchecked: revealed < delivered <= capacity (each deliverer reveals once; the Reveal
        // phase ends when revealed == delivered).
        unchecked {
            _state.revealed = s.revealed + 1;
        }

        emit Revealed(msg.sender, index, secret, deliveryKeyX, deliveryKeyY, seed);
    }

    /// @inheritdoc IModelpactRound
    function claim(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY)
        external
        override
        nonReentrant
    {
        State memory s = _state;
        _requireClaimable(s);
        Entry memory entry = _entries[msg.sender];
        if (!entry.joined) revert NotParticipant(msg.sender);
        if (!entry.revealed) revert NotRevealed(msg.sender);
        if (entry.claimed) revert AlreadyClaimed(msg.sender);
        // The secret decides the rung: it must be the committed one (also refuses a copied root).
        _checkCommitment(dataRoot, secret, deliveryKeyX, deliveryKeyY);

        StoredOption storage o = _joinedOption(entry.optionId);
        (uint256 rung, uint256 accuracy, uint256 targetAccuracy) =
            _draw(s, o.targetWad, o.hiRung, _drawSeed(secret, entry.index));
        uint256 owedFromBond = _entitlement(s, entry);
        // unchecked: paidFromBond only ever grows to a value of `_entitlement`, which never
        // decreases (compensation is fixed at post; allot >= compensation; flags only turn on).
        uint256 compensation;
        unchecked {
            compensation = owedFromBond - entry.paidFromBond;
        }
        uint256 bond = _participantBond();

        Entry storage stored = _entries[msg.sender];
        stored.claimed = true;
        // owedFromBond <= allot <= coordinator bond < 2^96 (checked by initialize).
        // forge-lint: disable-next-line(unsafe-typecast)
        stored.paidFromBond = uint96(owedFromBond);

        emit Claimed(
            msg.sender,
            entry.index,
            entry.optionId,
            targetAccuracy,
            rung,
            accuracy,
            _rungModelHash(rung),
            bond,
            0, // slashShare: forfeited bonds are burned, never shared (issue 11.1, hole 3)
            compensation
        );

        // Interaction last: the caller takes back its own bond and its compensation.
        _pay(bond + compensation);
    }

    /// @inheritdoc IModelpactRound
    function withdrawCompensation() external override {
        _extend();
    }

    /// @inheritdoc IModelpactRound
    function withdrawAfterDefault() external override {
        _extend();
    }

    /// @inheritdoc IModelpactRound
    function withdrawAfterCancel() external override {
        _extend();
    }

    /// @inheritdoc IModelpactRound
    function sweep() external override {
        _extend();
    }

    /// @inheritdoc IModelpactRound
    function challenge(Challenge calldata) external override {
        _extend();
    }

    /// @inheritdoc IModelpactRound
    function deliver(address, uint256, uint256, bytes calldata) external override {
        _extend();
    }

    /// @inheritdoc IModelpactRound
    function disputeDelivery(bytes32, bytes32, uint256, uint256, uint256, bytes calldata) external override {
        _extend();
    }

    /// @inheritdoc IModelpactRound
    function proveNonDelivery(bytes32, bytes32, uint256, uint256) external override {
        _extend();
    }

    /// @dev Runs the called function of ModelpactProofs in this round's storage (DELEGATECALL with
    ///      this call's data unchanged, msg.value included), bubbling its revert. ModelpactProofs
    ///      inherits RoundCore, the same storage layout, and reads the same configuration: the
    ///      clone's args (`address(this)` is the clone under DELEGATECALL).
    function _extend() private {
        // The forwarded functions return nothing: only a revert needs its data.
        if (!LowLevelCall.delegatecallNoReturn(_PROOFS, msg.data)) LowLevelCall.bubbleRevert();
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IModelpactRound
    function coordinator() external view override returns (address) {
        return _coordinator();
    }

    /// @inheritdoc IModelpactRound
    function coordinatorBond() external view override returns (uint256) {
        return _coordinatorBond();
    }

    /// @inheritdoc IModelpactRound
    function coordinatorSecret() external view override returns (bytes32) {
        return _coordinatorSecret;
    }

    /// @inheritdoc IModelpactRound
    function phase() public view override returns (Phase) {
        return _phase(_state);
    }

    /// @inheritdoc IModelpactRound
    function deadlines() external view override returns (Deadlines memory d) {
        State memory s = _state;
        d.join = _joinDeadline();
        d.post = _postDeadline();
        if (s.posted) {
            d.reveal = _revealDeadline(s);
            d.delivery = _deliveryDeadline(s);
            d.claim = _claimDeadline(s);
        }
    }

    /// @inheritdoc IModelpactRound
    function dataDeadline() external view override returns (uint256) {
        State memory s = _state;
        // Joining open: not known yet. Posted: `postedAt` now holds the post time (and the
        // window is over anyway).
        if (s.posted || (block.timestamp <= _joinDeadline() && s.joined < _capacity())) return 0;
        return _dataDeadline(s);
    }

    /// @inheritdoc IModelpactRound
    function optionCount() external view override returns (uint256) {
        return _options.length;
    }

    /// @inheritdoc IModelpactRound
    function option(uint256 optionId) external view override returns (Option memory) {
        if (optionId >= _options.length) revert UnknownOption(optionId, _options.length);
        StoredOption storage o = _options[optionId];
        return Option(o.dataCount, o.ratioWad, o.promisedValueWad, o.budgetValueWad);
    }

    /// @inheritdoc IModelpactRound
    function config() external view override returns (Config memory c) {
        (,,, c) = _args();
    }

    /// @inheritdoc IModelpactRound
    function participant(address account) external view override returns (Participant memory) {
        Entry memory e = _entries[account];
        if (!e.joined) revert NotParticipant(account);
        return Participant(e.index, e.optionId, e.revealed, e.claimed, e.undelivered, e.deliveryFailed, e.paidFromBond);
    }

    /// @inheritdoc IModelpactRound
    function commitmentOf(bytes32 dataRoot) external view override returns (bytes32) {
        return _commitments[dataRoot];
    }

    /// @inheritdoc IModelpactRound
    function joinedCount() external view override returns (uint256) {
        return _state.joined;
    }

    /// @inheritdoc IModelpactRound
    function deliveredCount() external view override returns (uint256) {
        return _state.delivered;
    }

    /// @inheritdoc IModelpactRound
    function revealedCount() external view override returns (uint256) {
        return _state.revealed;
    }

    /// @inheritdoc IModelpactRound
    function totalData() external view override returns (uint256) {
        return _state.totalData;
    }

    /// @inheritdoc IModelpactRound
    function optionJoinCount(uint256 optionId) external view override returns (uint256) {
        if (optionId >= _options.length) revert UnknownOption(optionId, _options.length);
        return _options[optionId].joinCount;
    }

    /// @inheritdoc IModelpactRound
    function burned() external view override returns (uint256) {
        return _burned(_state);
    }

    /// @inheritdoc IModelpactRound
    function slashShare() external pure override returns (uint256) {
        return 0;
    }

    /// @inheritdoc IModelpactRound
    function tierCount() external view override returns (uint256) {
        return _state.tierCount;
    }

    /// @inheritdoc IModelpactRound
    function tier(uint256 tierIndex) external view override returns (PostedModel memory) {
        uint256 n = _state.tierCount;
        if (tierIndex >= n) revert TierOutOfRange(tierIndex, n);
        return _postedModel(tierIndex + 1, _accuracyAt(tierIndex + 1));
    }

    /// @inheritdoc IModelpactRound
    function collectiveModel() external view override returns (PostedModel memory) {
        State memory s = _state;
        if (!s.posted) return PostedModel(0, 0, 0);
        return _postedModel(uint256(s.tierCount) + 1, _accuracyAt(0));
    }

    /// @inheritdoc IModelpactRound
    function rungModel(uint256 rung) external view override returns (PostedModel memory) {
        State memory s = _state;
        if (!s.posted || rung == 0 || rung > uint256(s.tierCount) + 1) revert TierOutOfRange(rung, s.tierCount);
        return _postedModel(rung, rung > s.tierCount ? _accuracyAt(0) : _accuracyAt(rung));
    }

    /// @inheritdoc IModelpactRound
    function assignment(address account, bytes32 secret)
        external
        view
        override
        returns (uint256 rung, uint256 accuracyWad, uint256 targetAccuracyWad)
    {
        State memory s = _state;
        if (!s.posted) revert WrongPhase(_phase(s), Phase.Reveal);
        Entry memory entry = _entries[account];
        if (!entry.joined) revert NotParticipant(account);
        if (entry.undelivered) revert ParticipantUndelivered(account);
        StoredOption storage o = _joinedOption(entry.optionId);
        return _draw(s, o.targetWad, o.hiRung, _drawSeed(secret, entry.index));
    }

    /// @inheritdoc IModelpactRound
    function predictedAccuracy(uint256 dataCount) public view override returns (uint256 accuracyWad) {
        uint256 n = _curve.length;
        uint256 x0 = 0;
        uint256 y0 = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 knot = _curve[i];
            uint256 x1 = knot >> 64;
            // forge-lint: disable-next-line(unsafe-typecast)
            uint256 y1 = uint64(knot);
            if (dataCount < x1) return RoundMath.interpolate(x0, y0, x1, y1, dataCount);
            x0 = x1;
            y0 = y1;
        }
        // Flat beyond the last knot; 0 without knots.
        return y0;
    }

    /// @inheritdoc IModelpactRound
    function shortfall() external view override returns (uint256 shortfallWad, uint256 allot) {
        Outcome memory out = _outcome;
        return (out.shortfallWad, out.allot);
    }

    /// @inheritdoc IModelpactRound
    function entitlement(address account) external view override returns (uint256 owedFromBond, uint256 paid) {
        State memory s = _state;
        Entry memory entry = _entries[account];
        if (!s.posted || !entry.joined) return (0, entry.paidFromBond);
        return (_entitlement(s, entry), entry.paidFromBond);
    }

    /// @inheritdoc IModelpactRound
    function owed(address account) external view override returns (uint256) {
        State memory s = _state;
        Entry memory entry = _entries[account];
        if (!entry.joined) return 0;
        Phase p = _phase(s);
        uint256 b = _participantBond();
        if (p == Phase.Join || p == Phase.Post) return b;
        if (p == Phase.Aborted) return entry.claimed ? 0 : b + _coordinatorBond() / s.joined;
        if (entry.undelivered) return 0;
        if (p == Phase.Cancelled) return entry.claimed ? 0 : b;
        uint256 fromBond = _entitlement(s, entry) - entry.paidFromBond;
        // A revealer is owed its bond; a deliverer that has not revealed, only its entitlement.
        if (!entry.revealed || entry.claimed) return fromBond;
        return fromBond + b;
    }

    /// @inheritdoc IModelpactRound
    function liability() external view override returns (uint256) {
        State memory s = _state;
        return s.fraudProven ? _coordinatorBond() : _outcome.liability;
    }

    /// @inheritdoc IModelpactRound
    function fraudProven() external view override returns (bool) {
        return _state.fraudProven;
    }

    /// @inheritdoc IModelpactRound
    function swept() external view override returns (bool) {
        return !_state.unswept;
    }

    /// @inheritdoc IModelpactRound
    function postCommitment() external view override returns (bytes32) {
        return _state.posted ? _postCommitment : bytes32(0);
    }

    /// @inheritdoc IModelpactRound
    function deliveryOf(address account) external view override returns (bytes32) {
        return _deliveries[account];
    }

    /// @inheritdoc IModelpactRound
    function proofs() external view override returns (address) {
        return _PROOFS;
    }

    // ------------------------------------------------------------------------------------------
    // Internal: posting
    // ------------------------------------------------------------------------------------------

    /// @dev Budget check (tiers strictly ascending, non-zero, strictly below the collective model),
    ///      exact-count accuracies, non-zero and pairwise distinct hashes; stores hashes, log roots
    ///      and packed accuracies by rung, then each option's bracket.
    function _storeModels(
        PostedModel calldata collective,
        PostedModel[] calldata tiers,
        bytes[] calldata logs,
        uint256 rows
    ) internal {
        uint256 n = tiers.length;
        uint256 collectiveAccuracy = collective.accuracyWad;
        _checkModel(n + 1, collective, rows);

        uint256[(MAX_TIERS + 4) / 4] memory words;
        words[0] = collectiveAccuracy;
        bytes32[] memory hashes = new bytes32[](n + 1);
        hashes[n] = collective.modelHash;
        // A 256-bit filter on each hash's low byte: only a filter hit pays the O(n) scan, so an
        // honest post checks distinctness in O(n) (a coordinator crafting hits pays its own gas).
        uint256 seen = 1 << uint8(uint256(collective.modelHash));
        uint256 previous = 0;
        for (uint256 i = 0; i < n; ++i) {
            PostedModel calldata t = tiers[i];
            uint256 rung = i + 1;
            _checkModel(rung, t, rows);
            uint256 acc = t.accuracyWad;
            if (acc >= collectiveAccuracy) revert TierAboveCollective(i, acc, collectiveAccuracy);
            if (acc <= previous) revert TiersNotAscending(i);
            previous = acc;
            bytes32 h = t.modelHash;
            uint256 bit = 1 << uint8(uint256(h));
            if (seen & bit != 0) _checkDistinct(hashes, i, h);
            seen |= bit;
            hashes[i] = h;
            _modelHashByRung[rung] = h;
            words[rung >> 2] |= acc << ((rung & 3) * 64);
        }
        _modelHashByRung[n + 1] = collective.modelHash;
        _postCommitment = _commitPost(collective, tiers, logs, rows);
        for (uint256 w = 0; w <= n >> 2; ++w) {
            _accuracyWords[w] = words[w];
        }
        _storeBrackets(collectiveAccuracy, n);
    }

    /// @dev The post commitment: keccak256(abi.encode(ModelCommitment[])) over the collective model
    ///      (entry 0) and the tiers (entry i = rung i), each with the keccak256 of its packed log.
    function _commitPost(
        PostedModel calldata collective,
        PostedModel[] calldata tiers,
        bytes[] calldata logs,
        uint256 rows
    ) internal pure returns (bytes32) {
        uint256 n = tiers.length;
        ModelCommitment[] memory posted = new ModelCommitment[](n + 1);
        posted[0] = _commitModel(collective, logs, 0, rows);
        for (uint256 i = 0; i < n; ++i) {
            posted[i + 1] = _commitModel(tiers[i], logs, i + 1, rows);
        }
        return keccak256(abi.encode(posted));
    }

    /// @dev Entry `position` of the post commitment: model `m` with the hash of its packed log,
    ///      which must hold 3 bytes per test row.
    function _commitModel(PostedModel calldata m, bytes[] calldata logs, uint256 position, uint256 rows)
        internal
        pure
        returns (ModelCommitment memory)
    {
        bytes calldata log = logs[position];
        uint256 expected = 3 * rows;
        if (log.length != expected) revert LogLengthMismatch(position, log.length, expected);
        return ModelCommitment(m.modelHash, m.accuracyWad, m.logRoot, keccak256(log));
    }

    /// @dev `h` (tier i's hash) differs from the collective model's (last) and tiers 0..i-1.
    function _checkDistinct(bytes32[] memory hashes, uint256 i, bytes32 h) internal pure {
        if (h == hashes[hashes.length - 1]) revert DuplicateModelHash(i + 1, h);
        for (uint256 j = 0; j < i; ++j) {
            if (hashes[j] == h) revert DuplicateModelHash(i + 1, h);
        }
    }

    /// @dev Each option's target (ratio x collective accuracy, floor) and the lowest rung at or
    ///      above it (rung 0 for a zero target), so a claim never searches. O(options x log tiers)
    ///      warm reads of the words just written.
    function _storeBrackets(uint256 collectiveAccuracy, uint256 tierCount_) internal {
        uint256 optionCount_ = _options.length;
        for (uint256 i = 0; i < optionCount_; ++i) {
            // i < the menu's length: no bounds check needed (each would re-read the length).
            StoredOption storage o = _joinedOption(i);
            uint256 targetAccuracy = RoundMath.target(o.ratioWad, collectiveAccuracy);
            uint256 hiRung = _upperRung(targetAccuracy, tierCount_);
            // Adjacent writes of one slot (the optimizer may merge them).
            // target <= collective <= 1e18 < 2^64; the rung <= MAX_TIERS + 1 fits a uint8.
            // forge-lint: disable-next-line(unsafe-typecast)
            o.targetWad = uint64(targetAccuracy);
            // forge-lint: disable-next-line(unsafe-typecast)
            o.hiRung = uint8(hiRung);
        }
    }

    /// @dev A posted model: non-zero hash and log root, and an accuracy that is an exact count over
    ///      the T test rows: with c = ceil(acc * T / 1e18), 1 <= c <= T and floor(c * 1e18 / T) == acc
    ///      (the only count that can give acc, since T <= 1e18 makes the map injective).
    function _checkModel(uint256 rung, PostedModel calldata m, uint256 rows) internal pure {
        if (m.modelHash == 0 || m.logRoot == 0) revert ZeroCommitment();
        uint256 acc = m.accuracyWad;
        // acc < 2^64 and rows <= 1e18: the product fits.
        uint256 count = (acc * rows + _WAD - 1) / _WAD;
        if (count == 0 || count > rows || RoundMath.accuracyOfCount(count, rows) != acc) {
            revert AccuracyNotCount(rung, acc, rows);
        }
    }

    /// @dev Flags each listed participant undelivered (strictly ascending joined addresses),
    ///      subtracts them and their rows from `s.delivered` and `s.totalData` (memory), and
    ///      returns how many were listed per option.
    function _markUndelivered(State memory s, address[] calldata undelivered)
        internal
        returns (uint256[] memory byOption)
    {
        uint256 count = undelivered.length;
        byOption = new uint256[](_options.length);
        uint256 rows = 0;
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            address a = undelivered[i];
            Entry storage entry = _entries[a];
            if (a <= previous || !entry.joined) revert UndeliveredListInvalid(i, a);
            previous = a;
            entry.undelivered = true;
            uint8 optionId = entry.optionId;
            byOption[optionId] += 1;
            rows += _options[optionId].dataCount;
            emit Undelivered(a, entry.index);
        }
        // unchecked: the listed are distinct joined participants (strictly ascending), so
        // count <= joined < 2^32 and rows <= totalData < 2^64 (the sum of every joiner's rows);
        // the casts cannot truncate for the same reason.
        unchecked {
            // forge-lint: disable-next-line(unsafe-typecast)
            s.delivered = s.joined - uint32(count);
            // forge-lint: disable-next-line(unsafe-typecast)
            s.totalData -= uint64(rows);
        }
    }

    /// @dev Issue 13: the measured collective accuracy against the curve's prediction for the
    ///      delivered rows; fixes the allot, each option's curve compensation and the liability.
    ///      Returns whether there is a shortfall (then compensations are set).
    function _checkCurve(State memory s, uint256 measured, uint256[] memory lostByOption, uint256[_ARGS_WORDS] memory a)
        internal
        returns (bool)
    {
        uint256 predicted = predictedAccuracy(s.totalData);
        uint256 tolerance = a[_ARG_CURVE_TOLERANCE];
        uint256 shortfallWad = RoundMath.shortfall(predicted, measured, tolerance);
        uint256 allot = RoundMath.allot(a[_ARG_COORDINATOR_BOND], s.delivered);
        uint256 total = 0;
        if (shortfallWad > 0) {
            uint256 optionCount_ = _options.length;
            for (uint256 i = 0; i < optionCount_; ++i) {
                StoredOption storage o = _options[i];
                uint256 deliverers = o.joinCount - lostByOption[i];
                if (deliverers == 0) continue;
                uint256 comp = RoundMath.curveCompensation(o.ratioWad, shortfallWad, a[_ARG_SHORTFALL_PRICE], allot);
                if (comp > 0) {
                    _compensation[i] = comp;
                    total += deliverers * comp;
                }
            }
        }
        // allot and total <= coordinator bond < 2^96 (at most one allot per deliverer);
        // shortfall <= predicted <= 1e18 < 2^64.
        // forge-lint: disable-next-line(unsafe-typecast)
        _outcome = Outcome(uint96(allot), uint96(total), uint64(shortfallWad));

        emit CurveChecked(s.totalData, predicted, measured, tolerance, shortfallWad, allot, total);
        return shortfallWad > 0;
    }

    // ------------------------------------------------------------------------------------------
    // Internal: hooks for challenges (issue 14) and delivery disputes (issue 15)
    // ------------------------------------------------------------------------------------------

    // ------------------------------------------------------------------------------------------
    // Internal: rules
    // ------------------------------------------------------------------------------------------

    /// @dev Claims open after the Reveal phase and never close.
    function _requireClaimable(State memory s) internal view {
        Phase current = _phase(s);
        if (current != Phase.Claim && current != Phase.Closed) revert WrongPhase(current, Phase.Claim);
    }

    /// @dev Posting and cancelling: phase Post, after the data window (issue 11.7): every joiner,
    ///      however late it joined, had MIN_WINDOW to deliver its data before it can be named
    ///      undelivered.
    ///      `a`: the clone's args, loaded by the caller (`_allArgs`).
    function _requirePostable(State memory s, uint256[_ARGS_WORDS] memory a) internal view {
        uint256 capacity_ = a[_ARG_CAPACITY];
        uint256 joinDeadline_ = a[_ARG_JOIN_DEADLINE];
        Phase current = s.cancelled || s.posted
            ? _phase(s)
            : _unpostedPhase(s, capacity_, a[_ARG_QUORUM], joinDeadline_, a[_ARG_POST_DEADLINE]);
        if (current != Phase.Post) revert WrongPhase(current, Phase.Post);
        // As `_dataDeadline`, from the loaded args.
        uint256 opensAfter = (s.joined >= capacity_ ? s.postedAt : joinDeadline_) + MIN_WINDOW;
        if (block.timestamp <= opensAfter) revert DataWindowOpen(block.timestamp, opensAfter);
    }

    /// @dev The last second of the data window: MIN_WINDOW after joining closed (the join that
    ///      filled the round, recorded in `postedAt` until the post, or the join deadline).
    function _dataDeadline(State memory s) internal view returns (uint256) {
        uint256 closedAt = s.joined >= _capacity() ? s.postedAt : _joinDeadline();
        return closedAt + MIN_WINDOW;
    }

    /// @dev The log root is not stored (it lives in the post commitment and the ModelsPosted
    ///      event): views return it as 0.
    function _postedModel(uint256 rung, uint256 accuracy) internal view returns (PostedModel memory) {
        // accuracy <= 1e18 fits uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        return PostedModel(_modelHashByRung[rung], uint64(accuracy), 0);
    }

    /// @dev Rung 0 = no model (accuracy 0), rungs 1..L = tiers, rung L+1 = the collective model.
    ///      The lowest rung whose accuracy is >= target: rung 0 for a zero target, else a tier or
    ///      the collective model (target <= collective). Binary search (rungs ascend strictly), at
    ///      most 6 probes.
    function _upperRung(uint256 targetAccuracy, uint256 tierCount_) internal view returns (uint256) {
        uint256 first = 0;
        uint256 end = tierCount_ + 1;
        while (first < end) {
            uint256 mid;
            // unchecked: first < end <= MAX_TIERS + 1, the sum cannot overflow.
            unchecked {
                mid = (first + end) >> 1;
            }
            // Rung 0's accuracy is 0; positions 1..L hold the tiers.
            uint256 acc = mid > 0 ? _accuracyAt(mid) : 0;
            if (acc >= targetAccuracy) end = mid;
            else first = mid + 1;
        }
        return first;
    }

    /// @dev The assignment for any ratio (the option's bracket computed on the spot).
    function _assign(State memory s, uint256 ratioWad, bytes32 seed)
        internal
        view
        returns (uint256 rung, uint256 accuracy, uint256 targetAccuracy)
    {
        targetAccuracy = RoundMath.target(ratioWad, _accuracyAt(0));
        return _draw(s, targetAccuracy, _upperRung(targetAccuracy, s.tierCount), seed);
    }

    function _rungModelHash(uint256 rung) internal view returns (bytes32) {
        return _modelHashByRung[rung];
    }
}
