// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IModelpactRound} from "./interfaces/IModelpactRound.sol";
import {RoundMath} from "./libraries/RoundMath.sol";

/// @title ModelpactRound
/// @notice One round of collaborative machine learning paid with models. See {IModelpactRound} for
///         the phases, fixed-point scales, hash preimages and the rung/draw rule.
/// @dev    Gas layout (targets: join <= 100k, reveal <= 50k, claim <= 65k):
///           - everything a per-participant action reads or bumps lives in ONE packed slot
///             (`_state`), initialised non-zero at deployment (capacity) so the first join does
///             not pay a fresh-slot write for it;
///           - each participant uses two slots: a packed entry and one word that holds the
///             randomness commitment until the reveal and the draw seed afterwards (the commitment
///             stays in the `Joined` event; a fresh third slot would cost 20k gas per reveal);
///           - the data root is NOT stored: it only has to be auditable, so it lives in `Joined`;
///           - per-option join counts share the option's first slot (read at join anyway);
///           - tier accuracies are packed four to a slot and a claim binary-searches them.
///         Every per-participant action is O(1); loops run only over the menu (<= 64 options), the
///         tiers (<= 32) and the curve knots (<= 64).
///         Interactions (ETH transfers) happen last, behind OpenZeppelin's transient reentrancy
///         guard (EIP-1153, same semantics as `ReentrancyGuard` at ~100 gas instead of ~5k).
contract ModelpactRound is IModelpactRound, ReentrancyGuardTransient {
    // ------------------------------------------------------------------------------------------
    // Constants and immutables
    // ------------------------------------------------------------------------------------------

    /// @dev A uint8 option id names at most 256 options; 64 keeps deployment cheap and bounded.
    uint256 public constant MAX_OPTIONS = 64;
    /// @dev Bound on the reward tiers (loops in `postModels` and `claim`).
    uint256 public constant MAX_TIERS = 32;
    /// @dev Bound on the curve knots (loop in `predictedAccuracy`).
    uint256 public constant MAX_KNOTS = 64;

    uint256 private constant _WAD = 1e18;

    /// @inheritdoc IModelpactRound
    address public immutable override coordinator;
    /// @inheritdoc IModelpactRound
    uint256 public immutable override coordinatorBond;

    uint256 private immutable _participantBond;
    bytes32 private immutable _scenarioHash;
    bytes32 private immutable _testSetCommitment;
    bytes32 private immutable _coordinatorCommitment;
    uint64 private immutable _joinDeadline;
    uint64 private immutable _postDeadline;
    uint64 private immutable _revealDeadline;
    uint64 private immutable _claimDeadline;

    // ------------------------------------------------------------------------------------------
    // Storage
    // ------------------------------------------------------------------------------------------

    /// @dev The round's counters and flags, one slot (248 bits).
    struct State {
        uint32 capacity;
        uint32 joined;
        uint32 revealed;
        uint64 totalData;
        uint64 collectiveAccuracyWad;
        uint8 tierCount;
        bool coordinatorRevealed;
        bool modelsPosted;
    }

    /// @dev An option as stored: slot 0 = (dataCount, ratioWad, joinCount), slot 1 = (t, t_bar).
    struct StoredOption {
        uint64 dataCount;
        uint64 ratioWad;
        uint32 joinCount;
        uint128 promisedValueWad;
        uint128 budgetValueWad;
    }

    /// @dev A participant as stored: slot 0 = packed entry; slot 1 = commitment, then draw seed.
    ///      `joined` keeps slot 0 non-zero for every participant (also #0 with option 0), so the
    ///      reveal and claim flag writes are cheap non-zero to non-zero updates.
    struct Entry {
        uint32 index;
        uint8 optionId;
        bool joined;
        bool revealed;
        bool claimed;
        bytes32 commitmentOrSeed;
    }

    State private _state;
    StoredOption[] private _options;
    CurveKnot[] private _curve;
    mapping(address participant => Entry) private _entries;
    bytes32 private _coordinatorSecret;
    bytes32 private _collectiveModelHash;
    bytes32[MAX_TIERS] private _tierModelHash;
    /// @dev Tier i's accuracy is bits [64*(i%4), 64*(i%4)+64) of word i/4.
    uint256[MAX_TIERS / 4] private _tierAccuracyWords;

    // ------------------------------------------------------------------------------------------
    // Modifiers
    // ------------------------------------------------------------------------------------------

    modifier onlyCoordinator() {
        _checkCoordinator();
        _;
    }

    // ------------------------------------------------------------------------------------------
    // Constructor
    // ------------------------------------------------------------------------------------------

    /// @param menu_   options sorted by (dataCount, ratioWad), non-decreasing; ratio <= 1e18.
    /// @param config_ capacity, bonds, commitments and deadlines (now < join < post < reveal < claim).
    /// @param curve_  committed accuracy curve, strictly ascending in dataCount (may be empty).
    /// @dev   msg.value is the coordinator's bond.
    constructor(Option[] memory menu_, Config memory config_, CurveKnot[] memory curve_) payable {
        uint256 optionCount_ = menu_.length;
        if (optionCount_ == 0) revert EmptyMenu();
        if (optionCount_ > MAX_OPTIONS) revert MenuTooLarge(optionCount_, MAX_OPTIONS);
        for (uint256 i = 0; i < optionCount_; ++i) {
            Option memory o = menu_[i];
            if (o.dataCount == 0) revert ZeroDataCount(i);
            if (o.ratioWad > _WAD) revert RatioAboveOne(i, o.ratioWad);
            if (i > 0) {
                Option memory p = menu_[i - 1];
                if (p.dataCount > o.dataCount || (p.dataCount == o.dataCount && p.ratioWad > o.ratioWad)) {
                    revert OptionsNotSorted(i);
                }
            }
            _options.push(StoredOption(o.dataCount, o.ratioWad, 0, o.promisedValueWad, o.budgetValueWad));
        }
        if (config_.capacity == 0) revert ZeroCapacity();
        Deadlines memory d = config_.deadlines;
        if (!(block.timestamp < d.join && d.join < d.post && d.post < d.reveal && d.reveal < d.claim)) {
            revert DeadlinesInconsistent(d.join, d.post, d.reveal, d.claim);
        }
        uint256 knotCount = curve_.length;
        if (knotCount > MAX_KNOTS) revert CurveTooLong(knotCount, MAX_KNOTS);
        for (uint256 i = 0; i < knotCount; ++i) {
            CurveKnot memory k = curve_[i];
            if (k.accuracyWad > _WAD || (i > 0 && curve_[i - 1].dataCount >= k.dataCount)) {
                revert CurveNotAscending(i);
            }
            _curve.push(k);
        }

        coordinator = msg.sender;
        coordinatorBond = msg.value;
        _participantBond = config_.participantBond;
        _scenarioHash = config_.scenarioHash;
        _testSetCommitment = config_.testSetCommitment;
        _coordinatorCommitment = config_.coordinatorCommitment;
        _joinDeadline = d.join;
        _postDeadline = d.post;
        _revealDeadline = d.reveal;
        _claimDeadline = d.claim;
        _state.capacity = config_.capacity;

        emit RoundPublished(msg.sender, config_.scenarioHash, menu_, config_, curve_, msg.value);
    }

    // ------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IModelpactRound
    function join(uint8 optionId, bytes32 dataRoot, uint64 rowCount, bytes32 commitment) external payable override {
        State memory s = _state;
        if (block.timestamp > _joinDeadline || s.joined >= s.capacity) {
            revert JoinClosed(block.timestamp, _joinDeadline, s.joined, s.capacity);
        }
        Entry storage entry = _entries[msg.sender];
        if (entry.joined) revert AlreadyJoined(msg.sender);
        if (optionId >= _options.length) revert UnknownOption(optionId, _options.length);
        StoredOption storage o = _options[optionId];
        uint64 required = o.dataCount;
        if (rowCount != required) revert WrongRowCount(optionId, required, rowCount);
        if (msg.value != _participantBond) revert WrongBond(_participantBond, msg.value);
        if (dataRoot == 0 || commitment == 0) revert ZeroCommitment();

        uint32 index = s.joined;
        // Checked: totalData is a uint64 sum of uint64 row counts; an overflow reverts (Panic 0x11).
        uint64 newTotal = s.totalData + required;
        // unchecked: index < capacity <= type(uint32).max, and joinCount <= joined < capacity.
        unchecked {
            _state.joined = index + 1;
            o.joinCount += 1;
        }
        _state.totalData = newTotal;
        entry.index = index;
        entry.optionId = optionId;
        entry.joined = true;
        entry.commitmentOrSeed = commitment;

        emit Joined(msg.sender, index, optionId, dataRoot, rowCount, commitment, msg.value, newTotal);
    }

    /// @inheritdoc IModelpactRound
    function revealCoordinator(bytes32 secret) external override onlyCoordinator {
        if (_state.coordinatorRevealed) revert CoordinatorAlreadyRevealed();
        _requirePhase(Phase.Post);
        bytes32 computed = keccak256(abi.encode(secret, coordinator, _scenarioHash, block.chainid));
        if (computed != _coordinatorCommitment) revert CoordinatorRevealMismatch(_coordinatorCommitment, computed);

        _state.coordinatorRevealed = true;
        _coordinatorSecret = secret;

        emit CoordinatorRevealed(secret);
    }

    /// @inheritdoc IModelpactRound
    function postModels(bytes32 collectiveModelHash, uint64 collectiveAccuracyWad, Tier[] calldata tiers)
        external
        override
        onlyCoordinator
    {
        State memory s = _state;
        if (s.modelsPosted) revert ModelsAlreadyPosted();
        _requirePhase(Phase.Post);
        if (!s.coordinatorRevealed) revert CoordinatorNotRevealed();
        if (collectiveModelHash == 0) revert ZeroCommitment();
        if (collectiveAccuracyWad == 0 || collectiveAccuracyWad > _WAD) {
            revert AccuracyOutOfRange(collectiveAccuracyWad);
        }
        uint256 n = tiers.length;
        if (n > MAX_TIERS) revert TooManyTiers(n, MAX_TIERS);

        uint256 word = 0;
        uint256 previous = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint64 acc = tiers[i].accuracyWad;
            if (acc >= collectiveAccuracyWad) revert TierAboveCollective(i, acc, collectiveAccuracyWad);
            if (acc <= previous || tiers[i].modelHash == 0) revert TiersNotAscending(i);
            previous = acc;
            _tierModelHash[i] = tiers[i].modelHash;
            word |= uint256(acc) << ((i & 3) * 64);
            // Write each packed word once, when full or at the last tier.
            if (i & 3 == 3 || i + 1 == n) {
                _tierAccuracyWords[i >> 2] = word;
                word = 0;
            }
        }

        _state.modelsPosted = true;
        _state.collectiveAccuracyWad = collectiveAccuracyWad;
        // n <= MAX_TIERS = 32 fits a uint8.
        // forge-lint: disable-next-line(unsafe-typecast)
        _state.tierCount = uint8(n);
        _collectiveModelHash = collectiveModelHash;

        emit ModelsPosted(
            collectiveModelHash, collectiveAccuracyWad, tiers, s.totalData, predictedAccuracy(s.totalData)
        );
    }

    /// @inheritdoc IModelpactRound
    function reveal(bytes32 secret) external override {
        _requirePhase(Phase.Reveal);
        Entry storage entry = _entries[msg.sender];
        if (!entry.joined) revert NotParticipant(msg.sender);
        if (entry.revealed) revert AlreadyRevealed(msg.sender);
        bytes32 committed = entry.commitmentOrSeed;
        bytes32 computed = keccak256(abi.encode(secret, msg.sender, address(this), block.chainid));
        if (computed != committed) revert RevealMismatch(msg.sender, committed, computed);

        uint32 index = entry.index;
        bytes32 seed = keccak256(abi.encode(_coordinatorSecret, secret, address(this), uint256(index)));
        entry.revealed = true;
        entry.commitmentOrSeed = seed;
        // unchecked: revealed < joined <= capacity (each participant reveals once).
        unchecked {
            _state.revealed += 1;
        }

        emit Revealed(msg.sender, index, secret, seed);
    }

    /// @inheritdoc IModelpactRound
    function claim() external override nonReentrant {
        _requirePhase(Phase.Claim);
        Entry storage entry = _entries[msg.sender];
        if (!entry.joined) revert NotParticipant(msg.sender);
        if (!entry.revealed) revert NotRevealed(msg.sender);
        if (entry.claimed) revert AlreadyClaimed(msg.sender);

        entry.claimed = true;
        State memory s = _state;
        uint256 optionId = entry.optionId;
        (uint256 rung, uint256 accuracy, uint256 targetAccuracy) =
            _assign(s, _options[optionId].ratioWad, entry.commitmentOrSeed);
        uint256 share = _slashShare(s);
        uint256 bond = _participantBond;

        emit Claimed(
            msg.sender, entry.index, optionId, targetAccuracy, rung, accuracy, _rungModelHash(s, rung), bond, share
        );

        // Interaction last: the caller takes back its own bond (+ share).
        (bool ok,) = payable(msg.sender).call{value: bond + share}("");
        if (!ok) revert TransferFailed(msg.sender, bond + share);
    }

    /// @inheritdoc IModelpactRound
    function withdrawAfterDefault() external override nonReentrant {
        _requirePhase(Phase.Aborted);
        Entry storage entry = _entries[msg.sender];
        if (!entry.joined) revert NotParticipant(msg.sender);
        if (entry.claimed) revert AlreadyClaimed(msg.sender);

        entry.claimed = true;
        // joined >= 1 here: the caller joined.
        uint256 compensation = coordinatorBond / _state.joined;
        uint256 bond = _participantBond;

        emit DefaultRefunded(msg.sender, bond, compensation);

        (bool ok,) = payable(msg.sender).call{value: bond + compensation}("");
        if (!ok) revert TransferFailed(msg.sender, bond + compensation);
    }

    /// @inheritdoc IModelpactRound
    function sweep() external override nonReentrant {
        uint256 opensAt = _sweepOpensAt();
        if (block.timestamp <= opensAt) revert SweepTooEarly(block.timestamp, opensAt + 1);
        uint256 amount = address(this).balance;

        emit Swept(coordinator, amount);

        (bool ok,) = payable(coordinator).call{value: amount}("");
        if (!ok) revert TransferFailed(coordinator, amount);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc IModelpactRound
    function phase() public view override returns (Phase) {
        return _phase(_state);
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
    function config() external view override returns (Config memory) {
        return Config(
            _state.capacity,
            _participantBond,
            _scenarioHash,
            _testSetCommitment,
            _coordinatorCommitment,
            Deadlines(_joinDeadline, _postDeadline, _revealDeadline, _claimDeadline)
        );
    }

    /// @inheritdoc IModelpactRound
    function participant(address account) external view override returns (Participant memory p) {
        Entry storage entry = _entries[account];
        if (!entry.joined) revert NotParticipant(account);
        p.index = entry.index;
        p.optionId = entry.optionId;
        p.revealed = entry.revealed;
        p.claimed = entry.claimed;
        if (entry.revealed) p.drawSeed = entry.commitmentOrSeed;
        else p.commitment = entry.commitmentOrSeed;
    }

    /// @inheritdoc IModelpactRound
    function joinedCount() external view override returns (uint256) {
        return _state.joined;
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
    function tierCount() external view override returns (uint256) {
        return _state.tierCount;
    }

    /// @inheritdoc IModelpactRound
    function tier(uint256 tierIndex) external view override returns (Tier memory) {
        uint256 n = _state.tierCount;
        if (tierIndex >= n) revert TierOutOfRange(tierIndex, n);
        return Tier(_tierModelHash[tierIndex], uint64(_tierAccuracy(tierIndex)));
    }

    /// @inheritdoc IModelpactRound
    function collectiveModel() external view override returns (Tier memory) {
        return Tier(_collectiveModelHash, _state.collectiveAccuracyWad);
    }

    /// @inheritdoc IModelpactRound
    function coordinatorSecret() external view override returns (bytes32) {
        return _coordinatorSecret;
    }

    /// @inheritdoc IModelpactRound
    function slashShare() external view override returns (uint256) {
        return _slashShare(_state);
    }

    /// @inheritdoc IModelpactRound
    function assignment(address account)
        external
        view
        override
        returns (uint256 rung, uint256 accuracyWad, uint256 targetAccuracyWad)
    {
        State memory s = _state;
        if (!s.modelsPosted) revert WrongPhase(_phase(s), Phase.Reveal);
        Entry storage entry = _entries[account];
        if (!entry.joined) revert NotParticipant(account);
        if (!entry.revealed) revert NotRevealed(account);
        return _assign(s, _options[entry.optionId].ratioWad, entry.commitmentOrSeed);
    }

    /// @inheritdoc IModelpactRound
    function predictedAccuracy(uint256 dataCount) public view override returns (uint256 accuracyWad) {
        uint256 n = _curve.length;
        uint256 x0 = 0;
        uint256 y0 = 0;
        for (uint256 i = 0; i < n; ++i) {
            CurveKnot memory k = _curve[i];
            if (dataCount < k.dataCount) return RoundMath.interpolate(x0, y0, k.dataCount, k.accuracyWad, dataCount);
            x0 = k.dataCount;
            y0 = k.accuracyWad;
        }
        // Flat beyond the last knot; 0 without knots.
        return y0;
    }

    // ------------------------------------------------------------------------------------------
    // Internal
    // ------------------------------------------------------------------------------------------

    /// @dev The packed state, for derived contracts (test harnesses).
    function _stateView() internal view returns (State memory) {
        return _state;
    }

    function _checkCoordinator() internal view {
        if (msg.sender != coordinator) revert NotCoordinator(msg.sender);
    }

    function _requirePhase(Phase required) internal view {
        Phase current = _phase(_state);
        if (current != required) revert WrongPhase(current, required);
    }

    function _phase(State memory s) internal view returns (Phase) {
        if (!s.modelsPosted) {
            if (block.timestamp <= _joinDeadline && s.joined < s.capacity) return Phase.Join;
            if (block.timestamp <= _postDeadline) return Phase.Post;
            // Refunds after a default close with the claim window; then only the sweep is left.
            return block.timestamp <= _claimDeadline ? Phase.Aborted : Phase.Closed;
        }
        if (block.timestamp <= _revealDeadline && s.revealed < s.joined) return Phase.Reveal;
        if (block.timestamp <= _claimDeadline) return Phase.Claim;
        return Phase.Closed;
    }

    /// @dev Last second at which sweeping is still closed: the claim deadline, or the join deadline
    ///      when nobody joined (then nobody is owed anything once joining is over).
    function _sweepOpensAt() internal view returns (uint256) {
        return _state.joined == 0 ? _joinDeadline : _claimDeadline;
    }

    /// @dev Equal share of the forfeited bonds of non-revealers for each revealer (floor; the dust
    ///      is swept to the coordinator). Zero when nobody revealed.
    function _slashShare(State memory s) internal view returns (uint256) {
        if (s.revealed == 0) return 0;
        // unchecked: revealed <= joined.
        unchecked {
            return (uint256(s.joined - s.revealed) * _participantBond) / s.revealed;
        }
    }

    function _tierAccuracy(uint256 i) internal view returns (uint256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_tierAccuracyWords[i >> 2] >> ((i & 3) * 64));
    }

    /// @dev Rung 0 = no model (accuracy 0), rungs 1..L = tiers, rung L+1 = the collective model.
    ///      Finds the lowest rung `hi` with accuracy >= target; lo = hi - 1; draws between them.
    function _assign(State memory s, uint256 ratioWad, bytes32 seed)
        internal
        view
        returns (uint256 rung, uint256 accuracy, uint256 targetAccuracy)
    {
        targetAccuracy = RoundMath.target(ratioWad, s.collectiveAccuracyWad);
        if (targetAccuracy == 0) return (0, 0, 0);
        // Binary search for the first tier at or above the target (tiers ascend strictly): at most
        // 6 probes touching at most 4 packed slots, so a claim stays O(log tiers) in storage reads.
        uint256 first = 0;
        uint256 end = s.tierCount;
        while (first < end) {
            uint256 mid;
            // unchecked: first < end <= MAX_TIERS = 32, the sum cannot overflow.
            unchecked {
                mid = (first + end) >> 1;
            }
            if (_tierAccuracy(mid) >= targetAccuracy) end = mid;
            else first = mid + 1;
        }
        // Rung first + 1 is the tier found (or the collective model when first == tierCount).
        uint256 hi = first + 1;
        uint256 hiAccuracy = first < s.tierCount ? _tierAccuracy(first) : s.collectiveAccuracyWad;
        uint256 loAccuracy = first == 0 ? 0 : _tierAccuracy(first - 1);
        if (RoundMath.drawsHigh(seed, loAccuracy, hiAccuracy, targetAccuracy)) return (hi, hiAccuracy, targetAccuracy);
        // unchecked: hi >= 1 (rung 0 has accuracy 0 < target, so hi is never rung 0).
        unchecked {
            return (hi - 1, loAccuracy, targetAccuracy);
        }
    }

    function _rungModelHash(State memory s, uint256 rung) internal view returns (bytes32) {
        if (rung == 0) return bytes32(0);
        if (rung > s.tierCount) return _collectiveModelHash;
        // unchecked: 1 <= rung <= tierCount.
        unchecked {
            return _tierModelHash[rung - 1];
        }
    }
}
