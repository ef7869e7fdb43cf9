// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IModelpactRound} from "./interfaces/IModelpactRound.sol";
import {RoundMath} from "./libraries/RoundMath.sol";

/// @title RoundCore
/// @notice The storage layout and the shared rules of a modelpact round, inherited by
///         ModelpactRound and by ModelpactProofs (its challenge and delivery extension, run in the
///         round's storage through DELEGATECALL). Keeping both on this one base is what makes the
///         layout identical: no storage variable may be declared anywhere else.
/// @dev    The configuration getters read the clone's immutable args (issue 17: a round is a
///         clone of a shared implementation, see ModelpactFactory), the same in both contracts.
abstract contract RoundCore is ReentrancyGuardTransient {
    // Storage written by one of the two contracts and read by the other (the round and its
    // DELEGATECALL extension share it) looks uninitialized or constant to Slither in the other:
    // those declarations carry a slither-disable comment (contracts/SLITHER.md).

    /// @dev Bound on the reward tiers (loops in `postModels` and `claim`).
    uint256 public constant MAX_TIERS = 32;
    /// @dev Bound on a delivered ciphertext (a model's bytes), so that its dispute always fits a
    ///      block. Review A (attack 2): deliver pays calldata and a log, linear in the length, but
    ///      disputeDelivery pays the same calldata plus the decryption's memory (copies of the
    ///      ciphertext: quadratic), so without a bound a 1.5 MB garbage delivery fit a 30M-gas
    ///      block while its dispute did not, and proveNonDelivery is refused once a delivery
    ///      exists: a wrong delivery with impunity. At 128 KiB a dispute costs about 3M gas plus
    ///      calldata (test_attack_oversizedDeliveryCannotBeDisputedInABlock: under 10M in all);
    ///      canonical models are far smaller (the digits demo, 10 classes x 64 features: 1,370 B).
    uint256 public constant MAX_DELIVERY_BYTES = 131_072;
    /// @dev Share of the coordinator's bond paid to a successful challenger, in basis points.
    uint256 public constant FRAUD_REWARD_BPS = RoundMath.FRAUD_REWARD_BPS;

    /// @dev A uint8 option id names at most 256 options; 64 keeps deployment cheap and bounded.
    uint256 public constant MAX_OPTIONS = 64;
    /// @dev Bound on the curve knots (loop in `predictedAccuracy`).
    uint256 public constant MAX_KNOTS = 64;
    /// @dev Bound on the participants, so that naming every one of them undelivered (~8.4k gas
    ///      each) fits one post or cancel transaction (~17M gas) well inside a block. Without it, a
    ///      crowd of joiners that never deliver could make the post impossible and collect a share
    ///      of the coordinator's bond after the default.
    uint256 public constant MAX_CAPACITY = 2000;
    /// @dev Shortest reveal, delivery and claim window (see the interface header for why 1 hour).
    uint256 public constant MIN_WINDOW = 1 hours;
    /// @dev Bound on the test rows T. The packed log's uint16 running count would allow 65,535,
    ///      but the one O(T) fraud proof (LogRootMismatch: rebuild the log tree on chain) must fit
    ///      a block, or a coordinator could post a root nobody can open with impunity. Measured
    ///      (forge): the rebuild costs 0.64M gas at 360 rows, 9.2M at 4,096, 25M at 8,192 and 76M
    ///      at 16,384 (memory grows with the rows). 4,096 keeps the whole challenge near 10M gas,
    ///      a third of a 30M block, and covers every shipped scenario (the digits demo uses 360).
    uint256 public constant MAX_TEST_ROWS = 4096;

    uint256 internal constant _WAD = 1e18;
    /// @dev OpenZeppelin's clone proxy code, before the args (Clones.cloneWithImmutableArgs).
    uint256 internal constant _PROXY_CODE_LENGTH = 0x2d;
    /// @dev abi.encode(address, address, uint256, IModelpactRound.Config): 3 + 14 static words.
    uint256 internal constant _ARGS_WORDS = 17;
    uint256 internal constant _ARGS_LENGTH = 544; // _ARGS_WORDS * 32 (a literal: used in assembly)
    // The index of each field among the args words (the Config's fields in declaration order).
    uint256 internal constant _ARG_FACTORY = 0;
    uint256 internal constant _ARG_COORDINATOR = 1;
    uint256 internal constant _ARG_COORDINATOR_BOND = 2;
    uint256 internal constant _ARG_CAPACITY = 3;
    uint256 internal constant _ARG_QUORUM = 4;
    uint256 internal constant _ARG_PARTICIPANT_BOND = 5;
    uint256 internal constant _ARG_SCENARIO_HASH = 6;
    uint256 internal constant _ARG_TEST_SET = 7;
    uint256 internal constant _ARG_TEST_ROW_COUNT = 8;
    uint256 internal constant _ARG_COORDINATOR_COMMITMENT = 9;
    uint256 internal constant _ARG_CURVE_TOLERANCE = 10;
    uint256 internal constant _ARG_SHORTFALL_PRICE = 11;
    uint256 internal constant _ARG_JOIN_DEADLINE = 12;
    uint256 internal constant _ARG_POST_DEADLINE = 13;
    uint256 internal constant _ARG_REVEAL_WINDOW = 14;
    uint256 internal constant _ARG_DELIVERY_WINDOW = 15;
    uint256 internal constant _ARG_CLAIM_WINDOW = 16;
    /// @dev The runtime code length of every round clone (589 bytes).
    uint256 internal constant _CLONE_CODE_LENGTH = 589; // _PROXY_CODE_LENGTH + _ARGS_LENGTH
    /// @dev `_postCommitment` before the post (no keccak256 output is known to equal it).
    bytes32 internal constant _UNPOSTED = bytes32(uint256(1));

    // ------------------------------------------------------------------------------------------
    // Storage
    // ------------------------------------------------------------------------------------------

    /// @dev The round's counters and flags, one slot (256 bits). `delivered` equals `joined` until
    ///      the post or cancel subtracts the undelivered; `totalData` counts deliverers' rows.
    struct State {
        uint32 joined;
        uint32 delivered;
        uint32 revealed;
        uint64 totalData;
        uint40 postedAt;
        uint8 tierCount;
        bool unswept; // true from deployment until the sweep (keeps this slot non-zero)
        bool coordinatorRevealed;
        bool posted;
        bool cancelled;
        bool fraudProven;
        bool hasShortfall; // the curve check found a shortfall: options' compensations are set
    }

    /// @dev What the post fixed about the coordinator's bond, one slot (B < 2^96).
    struct Outcome {
        uint96 allot; // each deliverer's allot (RoundMath.allot)
        uint96 liability; // sum of entitlements (ignored once fraud is proven: then all of B)
        uint64 shortfallWad; // curve check result
    }

    /// @dev An option as stored: slot 0 = (dataCount, ratioWad, joinCount, targetWad, hiRung),
    ///      slot 1 = (t, t_bar). The target (ratio x collective accuracy) and the lowest rung at or
    ///      above it are set at post.
    struct StoredOption {
        uint64 dataCount;
        uint64 ratioWad;
        uint32 joinCount;
        uint64 targetWad;
        uint8 hiRung;
        uint128 promisedValueWad;
        uint128 budgetValueWad;
    }

    /// @dev A participant as stored, one slot. `joined` keeps the slot non-zero for every
    ///      participant (also #0 with option 0), so later flag writes are non-zero updates.
    struct Entry {
        uint32 index;
        uint8 optionId;
        bool joined;
        bool revealed;
        bool claimed;
        bool undelivered;
        bool deliveryFailed;
        uint96 paidFromBond;
    }

    State internal _state;
    Outcome internal _outcome;
    // slither-disable-next-line uninitialized-state,constable-states,unused-state
    StoredOption[] internal _options;
    /// @dev Knot i = (dataCount << 64) | accuracyWad; uint128 elements pack two to a slot.
    // slither-disable-next-line uninitialized-state,constable-states,unused-state
    uint128[] internal _curve;
    mapping(address participant => Entry) internal _entries;
    // slither-disable-next-line uninitialized-state,constable-states,unused-state
    mapping(bytes32 dataRoot => bytes32 commitment) internal _commitments;
    /// @dev Curve compensation in wei per deliverer of an option (only when `hasShortfall`).
    // slither-disable-next-line uninitialized-state,constable-states,unused-state
    mapping(uint256 optionId => uint256 compensation) internal _compensation;
    // slither-disable-next-line uninitialized-state,constable-states,unused-state
    bytes32 internal _coordinatorSecret;
    /// @dev Indexed by rung: 1..L tiers, L + 1 the collective model (index 0 unused).
    // slither-disable-next-line uninitialized-state,constable-states,unused-state
    bytes32[MAX_TIERS + 2] internal _modelHashByRung;
    /// @dev keccak256(abi.encode(ModelCommitment[])) of the post: the log roots and log hashes
    ///      live only here (issue 14: one slot instead of one per model).
    // slither-disable-next-line uninitialized-state,constable-states,unused-state
    bytes32 internal _postCommitment;
    /// @dev Per participant: keccak256(abi.encode(E.x, E.y, keccak256(ciphertext))) of its delivery.
    // slither-disable-next-line uninitialized-state
    mapping(address participant => bytes32 delivery) internal _deliveries;
    /// @dev Accuracy at position p is bits [64*(p%4), 64*(p%4)+64) of word p/4; position 0 holds
    ///      the collective model, position i (1..L) tier i - 1, i.e. rung i.
    // slither-disable-next-line uninitialized-state
    uint256[(MAX_TIERS + 4) / 4] internal _accuracyWords;

    // ------------------------------------------------------------------------------------------
    // Modifiers
    // ------------------------------------------------------------------------------------------

    modifier onlyCoordinator() {
        _checkCoordinator();
        _;
    }

    // ------------------------------------------------------------------------------------------
    // Configuration: the clone's immutable args (issue 17)
    // ------------------------------------------------------------------------------------------

    /// @dev Word `i` of this round's immutable args. A round is an OpenZeppelin clone whose code
    ///      is the 45-byte proxy followed by abi.encode(factory, coordinator, coordinatorBond,
    ///      Config) (17 words): `address(this)` is the clone in the round and in the extension
    ///      (DELEGATECALL), so both read the same args. One EXTCODECOPY of a word (~110 gas on the
    ///      always-warm own address) into the scratch space. On an implementation called directly
    ///      this reads its own code: meaningless values, but its storage is empty (no menu, never
    ///      initialized), so nothing that moves funds gets past its checks.
    function _arg(uint256 i) internal view returns (uint256 word) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0, add(_PROXY_CODE_LENGTH, shl(5, i)), 0x20)
            word := mload(0)
        }
    }

    /// @dev Args words i and i + 1, with one EXTCODECOPY into the scratch space (where a getter
    ///      would pay one each: the access to this address is most of the cost).
    function _argPair(uint256 i) internal view returns (uint256 first, uint256 second) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0, add(_PROXY_CODE_LENGTH, shl(5, i)), 0x40)
            first := mload(0)
            second := mload(0x20)
        }
    }

    /// @dev The three windows measured from the post (args words 14..16: reveal, delivery,
    ///      claim), with one EXTCODECOPY into memory past the free memory pointer (temporary,
    ///      never allocated).
    function _windows() internal view returns (uint256 reveal, uint256 delivery, uint256 claim) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            extcodecopy(address(), m, add(_PROXY_CODE_LENGTH, shl(5, _ARG_REVEAL_WINDOW)), 0x60)
            reveal := mload(m)
            delivery := mload(add(m, 0x20))
            claim := mload(add(m, 0x40))
        }
    }

    /// @dev Option `id` of the stored menu WITHOUT the array's bounds check, whose length is a
    ///      slot no other read of a claim touches (2.1k gas cold): only for an id checked against
    ///      the menu before, i.e. a joined participant's option (join refuses unknown ids, and
    ///      the menu never changes after initialize), or a loop index below the menu's length. Element `id` of a dynamic array of
    ///      two-slot structs lives at keccak256(slot) + 2 * id.
    function _joinedOption(uint256 id) internal pure returns (StoredOption storage o) {
        assembly ("memory-safe") {
            mstore(0, _options.slot)
            o.slot := add(keccak256(0, 0x20), shl(1, id))
        }
    }

    /// @dev All 17 args words with one EXTCODECOPY, for a call that reads many of them (index
    ///      with the `_ARG_*` constants).
    function _allArgs() internal view returns (uint256[_ARGS_WORDS] memory a) {
        assembly ("memory-safe") {
            extcodecopy(address(), a, _PROXY_CODE_LENGTH, _ARGS_LENGTH)
        }
    }

    /// @dev All of the args, decoded (for initialize and the config view).
    function _args()
        internal
        view
        returns (address factory_, address coordinator_, uint256 coordinatorBond_, IModelpactRound.Config memory c)
    {
        bytes memory args = new bytes(_ARGS_LENGTH);
        assembly ("memory-safe") {
            extcodecopy(address(), add(args, 0x20), _PROXY_CODE_LENGTH, _ARGS_LENGTH)
        }
        return abi.decode(args, (address, address, uint256, IModelpactRound.Config));
    }

    // One getter per field read alone (the windows and the curve's tolerance and price are read
    // together: `_windows`, `_argPair`, `_allArgs`). The casts below cannot truncate: the factory
    // wrote the args with abi.encode from a calldata Config the ABI decoder had checked, so every
    // word holds a value of its field's type.

    function _factory() internal view returns (address) {
        return address(uint160(_arg(_ARG_FACTORY)));
    }

    function _coordinator() internal view returns (address) {
        return address(uint160(_arg(_ARG_COORDINATOR)));
    }

    function _coordinatorBond() internal view returns (uint256) {
        return _arg(_ARG_COORDINATOR_BOND);
    }

    function _capacity() internal view returns (uint32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(_arg(_ARG_CAPACITY));
    }

    function _quorum() internal view returns (uint32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(_arg(_ARG_QUORUM));
    }

    function _participantBond() internal view returns (uint256) {
        return _arg(_ARG_PARTICIPANT_BOND);
    }

    function _scenarioHash() internal view returns (bytes32) {
        return bytes32(_arg(_ARG_SCENARIO_HASH));
    }

    function _testSetCommitment() internal view returns (bytes32) {
        return bytes32(_arg(_ARG_TEST_SET));
    }

    function _testRowCount() internal view returns (uint64) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_arg(_ARG_TEST_ROW_COUNT));
    }

    function _coordinatorCommitment() internal view returns (bytes32) {
        return bytes32(_arg(_ARG_COORDINATOR_COMMITMENT));
    }

    function _joinDeadline() internal view returns (uint64) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_arg(_ARG_JOIN_DEADLINE));
    }

    function _postDeadline() internal view returns (uint64) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_arg(_ARG_POST_DEADLINE));
    }

    function _revealWindow() internal view returns (uint64) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_arg(_ARG_REVEAL_WINDOW));
    }

    // ------------------------------------------------------------------------------------------
    // Shared rules
    // ------------------------------------------------------------------------------------------

    /// @dev Records a proven fraud and pays the challenger (msg.sender) the fraud reward. Every
    ///      deliverer's entitlement becomes its allot; the sweep then pays nothing. The caller has
    ///      verified the proof, checked the challenge window and is `nonReentrant`.
    function _proveFraud(IModelpactRound.FraudKind kind, uint256 rung, uint256 row) internal {
        _state.fraudProven = true;
        uint256 reward = RoundMath.fraudReward(_coordinatorBond());

        emit IModelpactRound.FraudProven(kind, rung, row, msg.sender, reward);

        _pay(reward);
    }

    /// @dev Records a failed delivery to the caller (a revealed deliverer) and tops its payments
    ///      from the coordinator's bond up to its allot at once. The caller's function has verified
    ///      the proof and the window, that the delivery did not fail before, and is `nonReentrant`.
    function _failDelivery(IModelpactRound.DeliveryFailure reason) internal {
        Entry memory entry = _entries[msg.sender];
        Outcome memory out = _outcome;
        State memory s = _state;
        if (!s.fraudProven) {
            uint256 comp = _compensationOf(s, entry.optionId);
            // unchecked: comp <= allot, and the liability counts at most one allot per deliverer,
            // so liability + (allot - comp) <= delivered * allot <= coordinator bond < 2^96.
            unchecked {
                // forge-lint: disable-next-line(unsafe-typecast)
                _outcome.liability = out.liability + out.allot - uint96(comp);
            }
        }
        uint256 amount = out.allot - entry.paidFromBond;
        Entry storage stored = _entries[msg.sender];
        stored.deliveryFailed = true;
        stored.paidFromBond = out.allot;

        emit IModelpactRound.DeliveryFailed(msg.sender, reason, out.allot);

        _pay(amount);
    }

    /// @dev The packed state, for derived contracts (test harnesses).
    function _stateView() internal view returns (State memory) {
        return _state;
    }

    function _checkCoordinator() internal view {
        if (msg.sender != _coordinator()) revert IModelpactRound.NotCoordinator(msg.sender);
    }

    /// @dev Challenges and delivery disputes: from the post until the claim deadline.
    function _requireProofWindow(State memory s) internal view {
        if (!s.posted) revert IModelpactRound.WrongPhase(_phase(s), IModelpactRound.Phase.Reveal);
        uint256 deadline = _claimDeadline(s);
        if (block.timestamp > deadline) revert IModelpactRound.ProofWindowClosed(block.timestamp, deadline);
    }

    /// @dev For a dispute by the caller (a revealed deliverer, checked by the caller's function):
    ///      the proof window is open, its delivery has not failed before, and its rung (drawn
    ///      from `secret`; the caller's function checks the commitment) is above 0. Returns the
    ///      model hash of that rung.
    function _owedModel(bytes32 secret) internal view returns (bytes32) {
        State memory s = _state;
        _requireProofWindow(s);
        Entry memory entry = _entries[msg.sender];
        if (entry.deliveryFailed) revert IModelpactRound.DeliveryAlreadyFailed(msg.sender);
        StoredOption storage o = _joinedOption(entry.optionId);
        (uint256 rung,,) = _draw(s, o.targetWad, o.hiRung, _drawSeed(secret, entry.index));
        if (rung == 0) revert IModelpactRound.NoModelOwed(msg.sender);
        return _modelHashByRung[rung];
    }

    function _requirePhase(State memory s, IModelpactRound.Phase required) internal view {
        IModelpactRound.Phase current = _phase(s);
        if (current != required) revert IModelpactRound.WrongPhase(current, required);
    }

    function _phase(State memory s) internal view returns (IModelpactRound.Phase) {
        if (s.cancelled) return IModelpactRound.Phase.Cancelled;
        if (!s.posted) {
            // Two args words per EXTCODECOPY: (capacity, quorum) and (joinDeadline, postDeadline).
            (uint256 capacity_, uint256 quorum_) = _argPair(_ARG_CAPACITY);
            (uint256 joinDeadline_, uint256 postDeadline_) = _argPair(_ARG_JOIN_DEADLINE);
            return _unpostedPhase(s, capacity_, quorum_, joinDeadline_, postDeadline_);
        }
        (uint256 reveal, uint256 delivery, uint256 claim) = _windows();
        uint256 revealDeadline = uint256(s.postedAt) + reveal;
        if (block.timestamp <= revealDeadline && s.revealed < s.delivered) return IModelpactRound.Phase.Reveal;
        return block.timestamp <= revealDeadline + delivery + claim
            ? IModelpactRound.Phase.Claim
            : IModelpactRound.Phase.Closed;
    }

    /// @dev The phase of a round neither posted nor cancelled, from its args' values.
    function _unpostedPhase(
        State memory s,
        uint256 capacity_,
        uint256 quorum_,
        uint256 joinDeadline_,
        uint256 postDeadline_
    ) internal view returns (IModelpactRound.Phase) {
        if (block.timestamp <= joinDeadline_ && s.joined < capacity_) {
            return IModelpactRound.Phase.Join;
        }
        if (s.joined < quorum_) return IModelpactRound.Phase.Cancelled;
        return block.timestamp <= postDeadline_ ? IModelpactRound.Phase.Post : IModelpactRound.Phase.Aborted;
    }

    function _revealDeadline(State memory s) internal view returns (uint256) {
        return uint256(s.postedAt) + _revealWindow();
    }

    function _deliveryDeadline(State memory s) internal view returns (uint256) {
        (uint256 reveal, uint256 delivery) = _argPair(_ARG_REVEAL_WINDOW);
        return uint256(s.postedAt) + reveal + delivery;
    }

    function _claimDeadline(State memory s) internal view returns (uint256) {
        (uint256 reveal, uint256 delivery, uint256 claim) = _windows();
        return uint256(s.postedAt) + reveal + delivery + claim;
    }

    /// @dev Participant #index's draw seed (see the header).
    function _drawSeed(bytes32 secret, uint256 index) internal view returns (bytes32) {
        return keccak256(abi.encode(_coordinatorSecret, secret, address(this), index));
    }

    /// @dev The commitment stored under `dataRoot` must open to (secret, P, msg.sender, round, chain)
    ///      AND have been joined by msg.sender (see `_bindCommitment`).
    function _checkCommitment(bytes32 dataRoot, bytes32 secret, uint256 keyX, uint256 keyY) internal view {
        bytes32 committed = _commitments[dataRoot];
        bytes32 computed = _bindCommitment(
            keccak256(abi.encode(secret, keyX, keyY, msg.sender, address(this), block.chainid)), msg.sender
        );
        if (computed != committed) revert IModelpactRound.RevealMismatch(msg.sender, committed, computed);
    }

    /// @dev What `join` stores under a data root: keccak256(abi.encode(commitment, joiner)).
    ///      Review A (attack 1): the commitment's preimage names the address that may OPEN it, but
    ///      without this binding anyone could JOIN with it: a Sybil seat joining with a commitment
    ///      that opens for the attacker gave the attacker a second secret, hence a choice of draws
    ///      at reveal and claim, and a dispute of a correct delivery under a secret whose draw
    ///      names another rung (paid its allot out of an honest coordinator's bond). Binding the
    ///      joiner means only the root an address joined with opens for it.
    function _bindCommitment(bytes32 commitment, address joiner) internal pure returns (bytes32) {
        return keccak256(abi.encode(commitment, joiner));
    }

    /// @dev An option's curve compensation per deliverer (read only when there is a shortfall).
    function _compensationOf(State memory s, uint256 optionId) internal view returns (uint256) {
        return s.hasShortfall ? _compensation[optionId] : 0;
    }

    /// @dev Sends `amount` to the caller (its own claim, refund or compensation).
    // slither-disable-next-line arbitrary-send-eth
    function _pay(uint256 amount) internal {
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert IModelpactRound.TransferFailed(msg.sender, amount);
    }

    /// @dev Accuracy at packed position `p` (0 = collective model, i = rung i).
    function _accuracyAt(uint256 p) internal view returns (uint256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_accuracyWords[p >> 2] >> ((p & 3) * 64));
    }

    /// @dev The draw between `hiRung` and the rung below it for `targetAccuracy` (see the header);
    ///      hiRung 0 (a zero target) is no model.
    function _draw(State memory s, uint256 targetAccuracy, uint256 hiRung, bytes32 seed)
        internal
        view
        returns (uint256 rung, uint256 accuracy, uint256 target_)
    {
        if (hiRung == 0) return (0, 0, 0);
        uint256 hiAccuracy = hiRung > s.tierCount ? _accuracyAt(0) : _accuracyAt(hiRung);
        uint256 lo;
        // unchecked: hiRung >= 1.
        unchecked {
            lo = hiRung - 1;
        }
        uint256 loAccuracy = lo > 0 ? _accuracyAt(lo) : 0;
        if (RoundMath.drawsHigh(seed, loAccuracy, hiAccuracy, targetAccuracy)) {
            return (hiRung, hiAccuracy, targetAccuracy);
        }
        return (lo, loAccuracy, targetAccuracy);
    }

    /// @dev Wei this contract holds for ever: nobody can claim it and the sweep never pays it.
    ///      Burned means kept here, not sent to address(0): a transfer to address(0) is one more
    ///      external call that can only move money out of reach, while kept wei stays visible, so
    ///      balance == owed to participants + sweepable + burned holds to the wei at every step
    ///      (the audit reconciles on it). Burned: the bond of every participant named undelivered
    ///      (at the post or at a cancel), the bond of every deliverer that did not reveal once the
    ///      reveal phase is over, and after the coordinator's `cancelBelowQuorum` the coordinator's
    ///      bond B too (review of the cancel rule: B paid to anyone could be collected by seats the
    ///      coordinator or a griefer holds; SECURITY.md, "Quorum").
    function _burned(State memory s) internal view returns (uint256) {
        uint256 b = _participantBond();
        if (s.cancelled) return uint256(s.joined - s.delivered) * b + _coordinatorBond();
        if (!s.posted) return 0;
        uint256 forfeited = s.joined - s.delivered;
        if (_phase(s) != IModelpactRound.Phase.Reveal) forfeited += s.delivered - s.revealed;
        return forfeited * b;
    }

    /// @dev What `entry` is owed out of the coordinator's bond in total (0 before the post).
    function _entitlement(State memory s, Entry memory entry) internal view returns (uint256) {
        if (entry.undelivered) return 0;
        if (s.fraudProven || entry.deliveryFailed) return _outcome.allot;
        return _compensationOf(s, entry.optionId);
    }
}
