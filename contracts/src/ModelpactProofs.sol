// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IModelpactRound} from "./interfaces/IModelpactRound.sol";
import {RoundCore} from "./RoundCore.sol";
import {DeliveryCipher} from "./libraries/DeliveryCipher.sol";
import {EvalLog} from "./libraries/EvalLog.sol";
import {ModelEval} from "./libraries/ModelEval.sol";
import {RoundMath} from "./libraries/RoundMath.sol";

/// @title ModelpactProofs
/// @notice The challenge (issue 14) and delivery (issue 15) half of a modelpact round:
///         `challenge`, `deliver`, `disputeDelivery` and `proveNonDelivery` of IModelpactRound run
///         here, in the round's storage: the round forwards each call unchanged by DELEGATECALL.
///         Called directly, this contract acts on its own empty storage: every function reverts
///         (never initialized: NotAClone; nothing posted, nobody joined or revealed, nothing to
///         sweep).
/// @dev    Why a second contract: ModelpactRound's runtime code was 22.7 kB before fraud proofs
///         and deliveries; the model evaluation, two kinds of Merkle proof, the log-tree rebuild,
///         the delivery cipher and the four entry points add about 11 kB, far over EIP-170's
///         24,576 bytes. An external (linked) library would put link placeholders into the
///         round's bytecode that every deployment path (Python, Hardhat, viem) must resolve, and
///         a stateless verifier behind STATICCALL still left the round over the limit (the entry
///         points need the round's storage). So this extension inherits RoundCore (the one
///         storage layout) and runs in the round's storage.
///         Since issue 17 it is ONE shared deployment per chain (no constructor, no immutables):
///         it reads the round's configuration from the clone's immutable args like the round
///         (RoundCore._arg: `address(this)` is the clone under DELEGATECALL), and the round
///         implementation names it in an immutable (`proofs()`). `initialize` (the constructor's
///         menu, configuration and curve checks) runs here too, to keep the round under EIP-170.
///         The rules these paths enforce (fraud kinds, delivery disputes, windows, money) are
///         stated in IModelpactRound's header and docs/protocol.md section 7.
contract ModelpactProofs is RoundCore {
    // ------------------------------------------------------------------------------------------
    // Entry points (IModelpactRound; reached through the round)
    // ------------------------------------------------------------------------------------------

    /// @notice See IModelpactRound.initialize (the round checked the caller's code hash; what
    ///         needs no immutable of the round is checked again here, for direct calls).
    function initialize(IModelpactRound.Option[] calldata menu_, IModelpactRound.CurveKnot[] calldata curve_)
        external
        payable
    {
        // An implementation (this one called directly, or the round's forwarding to it) is no
        // clone: its code is not the 589-byte proxy with args, and it is never initialized.
        if (address(this).code.length != _CLONE_CODE_LENGTH) revert IModelpactRound.NotAClone(address(this));
        (address factory_, address coordinator_, uint256 bond, IModelpactRound.Config memory config_) = _args();
        if (msg.sender != factory_) revert IModelpactRound.NotFactory(msg.sender, factory_);
        // Every initialized round has a menu (EmptyMenu below): none means never initialized.
        if (_options.length != 0) revert IModelpactRound.AlreadyInitialized();
        if (msg.value != bond) revert IModelpactRound.CoordinatorBondMismatch(bond, msg.value);

        // The constructor's checks before issue 17, in the same order.
        uint256 maxDataCount = _storeMenu(menu_);
        _checkConfig(config_, maxDataCount);
        _storeCurve(curve_);
        _state.unswept = true;
        // Non-zero from initialization, like `unswept`: the post then updates the slot (2.9k
        // gas) instead of filling a fresh one (22.1k), which keeps postModels within its target.
        _postCommitment = _UNPOSTED;

        emit IModelpactRound.RoundPublished(coordinator_, config_.scenarioHash, menu_, config_, curve_, bond);
    }

    /// @notice See IModelpactRound.challenge.
    function challenge(IModelpactRound.Challenge calldata evidence) external nonReentrant {
        State memory s = _state;
        _requireProofWindow(s);
        if (s.fraudProven) revert IModelpactRound.FraudAlreadyProven();
        (IModelpactRound.FraudKind kind, uint256 rung, uint256 row) = _verifyChallenge(evidence);
        _proveFraud(kind, rung, row);
    }

    /// @notice See IModelpactRound.deliver.
    function deliver(address participant_, uint256 ephemeralX, uint256 ephemeralY, bytes calldata ciphertext)
        external
        onlyCoordinator
    {
        if (!_entries[participant_].revealed) revert IModelpactRound.NotRevealed(participant_);
        // Revealed implies posted, so the deadline is defined.
        uint256 deadline = _deliveryDeadline(_state);
        if (block.timestamp > deadline) revert IModelpactRound.DeliveryClosed(block.timestamp, deadline);
        if (_deliveries[participant_] != 0) revert IModelpactRound.AlreadyDelivered(participant_);
        if (ciphertext.length > MAX_DELIVERY_BYTES) {
            revert IModelpactRound.DeliveryTooLong(ciphertext.length, MAX_DELIVERY_BYTES);
        }
        _deliveries[participant_] = keccak256(abi.encode(ephemeralX, ephemeralY, keccak256(ciphertext)));

        emit IModelpactRound.Delivered(participant_, ephemeralX, ephemeralY, ciphertext);
    }

    /// @notice See IModelpactRound.disputeDelivery.
    function disputeDelivery(
        bytes32 dataRoot,
        bytes32 secret,
        uint256 deliverySecretKey,
        uint256 ephemeralX,
        uint256 ephemeralY,
        bytes calldata ciphertext
    ) external nonReentrant {
        bytes32 stored = _deliveries[msg.sender];
        bytes32 computed = keccak256(abi.encode(ephemeralX, ephemeralY, keccak256(ciphertext)));
        if (stored != computed) revert IModelpactRound.DeliveryNotStored(msg.sender, stored, computed);
        // P = sk * G must open the caller's commitment (with the data root and the secret that
        // decides its rung); a stored delivery means the caller revealed.
        if (!DeliveryCipher.isValidScalar(deliverySecretKey)) revert IModelpactRound.InvalidSecretKey();
        (uint256 px, uint256 py) = DeliveryCipher.publicKey(deliverySecretKey);
        bytes32 committed = _commitments[dataRoot];
        bytes32 opened = _bindCommitment(
            keccak256(abi.encode(secret, px, py, msg.sender, address(this), block.chainid)), msg.sender
        );
        if (opened != committed) revert IModelpactRound.DeliveryKeyMismatch(msg.sender, committed, opened);
        bytes32 modelHash = _owedModel(secret);
        // An ephemeral key off the curve cannot be decrypted by anyone: a failed delivery.
        (bool valid, bytes memory plaintext) =
            DeliveryCipher.tryDecrypt(deliverySecretKey, ephemeralX, ephemeralY, ciphertext);
        if (valid && keccak256(plaintext) == modelHash) revert IModelpactRound.DeliveryCorrect(msg.sender, modelHash);
        _failDelivery(IModelpactRound.DeliveryFailure.WrongModel);
    }

    /// @notice See IModelpactRound.proveNonDelivery.
    function proveNonDelivery(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY)
        external
        nonReentrant
    {
        if (!_entries[msg.sender].revealed) revert IModelpactRound.NotRevealed(msg.sender);
        uint256 deadline = _deliveryDeadline(_state);
        if (block.timestamp <= deadline) revert IModelpactRound.DeliveryWindowOpen(block.timestamp, deadline);
        if (_deliveries[msg.sender] != 0) revert IModelpactRound.DeliveryExists(msg.sender);
        _checkCommitment(dataRoot, secret, deliveryKeyX, deliveryKeyY);
        _owedModel(secret);
        _failDelivery(IModelpactRound.DeliveryFailure.NotDelivered);
    }

    /// @notice See IModelpactRound (payments moved here to keep the round under EIP-170).
    function withdrawCompensation() external nonReentrant {
        State memory s = _state;
        if (!s.posted) revert IModelpactRound.WrongPhase(_phase(s), IModelpactRound.Phase.Reveal);
        Entry memory entry = _entries[msg.sender];
        if (!entry.joined) revert IModelpactRound.NotParticipant(msg.sender);
        if (entry.undelivered) revert IModelpactRound.ParticipantUndelivered(msg.sender);
        uint256 owedFromBond = _entitlement(s, entry);
        if (owedFromBond <= entry.paidFromBond) revert IModelpactRound.NothingOwed(msg.sender);
        uint256 amount;
        // unchecked: owedFromBond > paidFromBond (checked just above).
        unchecked {
            amount = owedFromBond - entry.paidFromBond;
        }

        // owedFromBond <= allot <= coordinator bond < 2^96 (checked by initialize).
        // forge-lint: disable-next-line(unsafe-typecast)
        _entries[msg.sender].paidFromBond = uint96(owedFromBond);

        emit IModelpactRound.CompensationPaid(msg.sender, amount, owedFromBond);

        _pay(amount);
    }

    /// @notice See IModelpactRound (payments moved here to keep the round under EIP-170).
    function withdrawAfterDefault() external nonReentrant {
        State memory s = _state;
        _requirePhase(s, IModelpactRound.Phase.Aborted);
        Entry storage entry = _entries[msg.sender];
        if (!entry.joined) revert IModelpactRound.NotParticipant(msg.sender);
        if (entry.claimed) revert IModelpactRound.AlreadyClaimed(msg.sender);

        entry.claimed = true;
        // joined >= quorum >= 1 in the Aborted phase.
        uint256 compensation = _coordinatorBond() / s.joined;
        uint256 bond = _participantBond();

        emit IModelpactRound.DefaultRefunded(msg.sender, bond, compensation);

        _pay(bond + compensation);
    }

    /// @notice See IModelpactRound (payments moved here to keep the round under EIP-170).
    function withdrawAfterCancel() external nonReentrant {
        State memory s = _state;
        _requirePhase(s, IModelpactRound.Phase.Cancelled);
        Entry storage entry = _entries[msg.sender];
        if (!entry.joined) revert IModelpactRound.NotParticipant(msg.sender);
        if (entry.undelivered) revert IModelpactRound.ParticipantUndelivered(msg.sender);
        if (entry.claimed) revert IModelpactRound.AlreadyClaimed(msg.sender);

        entry.claimed = true;
        uint256 bond = _participantBond();

        // Exactly the bond, after either kind of cancel: after the coordinator's, B is burned
        // (RoundCore._burned), so no seat, the coordinator's or a griefer's, collects any of it.
        emit IModelpactRound.CancelRefunded(msg.sender, bond, 0);

        _pay(bond);
    }

    /// @notice See IModelpactRound (payments moved here to keep the round under EIP-170).
    // slither-disable-next-line arbitrary-send-eth
    function sweep() external nonReentrant {
        State memory s = _state;
        if (!s.unswept) revert IModelpactRound.AlreadySwept();
        (bool open, uint256 amount, uint256 owedToParticipants, uint256 opensAt) = _sweepable(s);
        if (!open) revert IModelpactRound.SweepTooEarly(block.timestamp, opensAt);

        _state.unswept = false;

        emit IModelpactRound.Swept(_coordinator(), amount, owedToParticipants);

        (bool ok,) = payable(_coordinator()).call{value: amount}("");
        if (!ok) revert IModelpactRound.TransferFailed(_coordinator(), amount);
    }

    /// @dev Whether the sweep is open, what it pays the coordinator, what of the coordinator's bond
    ///      stays owed to participants, and when it opens (if closed). Nothing a participant is or
    ///      may become owed is ever part of `amount`: participants' bonds never are, and of the
    ///      coordinator's bond only what no participant can claim any more.
    function _sweepable(State memory s)
        internal
        view
        returns (bool open, uint256 amount, uint256 owedToParticipants, uint256 opensAt)
    {
        IModelpactRound.Phase p = _phase(s);
        uint256 bond = _coordinatorBond();
        if (p == IModelpactRound.Phase.Cancelled) {
            // Too few joined: B goes back at once. The coordinator's cancel burns all of B
            // (_burned): nothing to sweep, not even dust, and nothing owed to participants.
            return (true, s.cancelled ? 0 : bond, 0, 0);
        }
        if (p == IModelpactRound.Phase.Aborted) {
            // A default: every joiner's share is floor(B / J), owed to it: J * floor(B / J) =
            // B - B % J stays; the rounding dust (B % J) is the coordinator's.
            owedToParticipants = bond - (bond % s.joined);
            return (true, bond - owedToParticipants, owedToParticipants, 0);
        }
        if (p == IModelpactRound.Phase.Closed) {
            owedToParticipants = s.fraudProven ? bond : _outcome.liability;
            return (true, bond - owedToParticipants, owedToParticipants, 0);
        }
        if (s.posted) return (false, 0, 0, _claimDeadline(s) + 1);
        // Before the post: too few joiners cancel the round when joining closes, a default opens
        // the sweep after the post deadline (a cancel by the coordinator opens it at once).
        return (false, 0, 0, uint256(s.joined < _quorum() ? _joinDeadline() : _postDeadline()) + 1);
    }

    /// @notice The positional evaluation-log root (EvalLog.sol) of a packed log of `testRowCount`
    ///         rows (3 bytes per row: uint8 predicted label, uint16 running count, big-endian).
    /// @dev    `log.length == 3 * testRowCount` (postModels checked it before hashing).
    function logRoot(bytes calldata log, uint256 testRowCount) public pure returns (bytes32) {
        uint256 width = uint256(1) << EvalLog.depth(testRowCount);
        bytes32[] memory level = new bytes32[](width);
        for (uint256 j = 0; j < testRowCount; ++j) {
            uint256 at = 3 * j;
            uint256 packed = uint24(bytes3(log[at:at + 3]));
            level[j] = EvalLog.leafHash(j, packed >> 16, packed & 0xffff);
        }
        // Positions T .. width - 1 stay bytes32(0). Each pass halves the level in place.
        for (; width > 1; width >>= 1) {
            for (uint256 i = 0; i < width; i += 2) {
                level[i >> 1] = keccak256(abi.encodePacked(level[i], level[i + 1]));
            }
        }
        return level[0];
    }

    // Initialization checks (the constructor's before issue 17)
    // ------------------------------------------------------------------------------------------

    /// @dev Checks and stores the menu; returns its largest dataCount (the last: options are sorted).
    function _storeMenu(IModelpactRound.Option[] calldata menu_) internal returns (uint256 maxDataCount) {
        uint256 optionCount_ = menu_.length;
        if (optionCount_ == 0) revert IModelpactRound.EmptyMenu();
        if (optionCount_ > MAX_OPTIONS) revert IModelpactRound.MenuTooLarge(optionCount_, MAX_OPTIONS);
        for (uint256 i = 0; i < optionCount_; ++i) {
            IModelpactRound.Option memory o = menu_[i];
            if (o.dataCount == 0) revert IModelpactRound.ZeroDataCount(i);
            if (o.ratioWad > _WAD) revert IModelpactRound.RatioAboveOne(i, o.ratioWad);
            _checkPromise(i, o);
            if (i > 0) {
                IModelpactRound.Option memory p = menu_[i - 1];
                if (p.dataCount > o.dataCount || (p.dataCount == o.dataCount && p.ratioWad > o.ratioWad)) {
                    revert IModelpactRound.OptionsNotSorted(i);
                }
            }
            _options.push(StoredOption(o.dataCount, o.ratioWad, 0, 0, 0, o.promisedValueWad, o.budgetValueWad));
        }
        return menu_[optionCount_ - 1].dataCount;
    }

    /// @dev t <= t_bar and ratio within one unit of floor(t * 1e18 / t_bar); t_bar = 0 only with t = 0
    ///      and ratio = 0 (issue 11.4: what the wallet ranks by is what the contract pays).
    function _checkPromise(uint256 i, IModelpactRound.Option memory o) internal pure {
        uint256 t = o.promisedValueWad;
        uint256 tBar = o.budgetValueWad;
        bool ok = false;
        if (tBar == 0) {
            ok = t == 0 && o.ratioWad == 0;
        } else if (t <= tBar) {
            // t, t_bar < 2^128 and WAD < 2^60: the product fits a uint256.
            uint256 exact = (t * _WAD) / tBar;
            ok = o.ratioWad + 1 >= exact && o.ratioWad <= exact + 1;
        }
        if (!ok) revert IModelpactRound.PromiseInconsistent(i, t, tBar, o.ratioWad);
    }

    function _checkConfig(IModelpactRound.Config memory c, uint256 maxDataCount) internal view {
        if (c.capacity == 0) revert IModelpactRound.ZeroCapacity();
        if (c.capacity > MAX_CAPACITY) revert IModelpactRound.CapacityTooLarge(c.capacity, MAX_CAPACITY);
        if (c.quorum == 0 || c.quorum > c.capacity) revert IModelpactRound.QuorumOutOfRange(c.quorum, c.capacity);
        if (uint256(c.capacity) * maxDataCount > type(uint64).max) {
            revert IModelpactRound.DataTotalOverflow(c.capacity, maxDataCount);
        }
        IModelpactRound.Schedule memory w = c.schedule;
        if (!(block.timestamp < w.joinDeadline && w.joinDeadline < w.postDeadline)) {
            revert IModelpactRound.ScheduleInconsistent(block.timestamp, w.joinDeadline, w.postDeadline);
        }
        // The post opens after the data window (MIN_WINDOW after joining closes, at the latest
        // after the join deadline): at least one second must remain before the post deadline.
        if (w.postDeadline - w.joinDeadline <= MIN_WINDOW) {
            revert IModelpactRound.WindowTooShort(
                IModelpactRound.Window.Data, w.postDeadline - w.joinDeadline, MIN_WINDOW + 1
            );
        }
        if (w.revealWindow < MIN_WINDOW) {
            revert IModelpactRound.WindowTooShort(IModelpactRound.Window.Reveal, w.revealWindow, MIN_WINDOW);
        }
        if (w.deliveryWindow < MIN_WINDOW) {
            revert IModelpactRound.WindowTooShort(IModelpactRound.Window.Delivery, w.deliveryWindow, MIN_WINDOW);
        }
        if (w.claimWindow < MIN_WINDOW) {
            revert IModelpactRound.WindowTooShort(IModelpactRound.Window.Claim, w.claimWindow, MIN_WINDOW);
        }
        if (c.testRowCount == 0 || c.testRowCount > _WAD) {
            revert IModelpactRound.TestRowCountOutOfRange(c.testRowCount);
        }
        if (c.testRowCount > MAX_TEST_ROWS) revert IModelpactRound.TooManyTestRows(c.testRowCount, MAX_TEST_ROWS);
        if (c.curveToleranceWad > _WAD) revert IModelpactRound.ToleranceOutOfRange(c.curveToleranceWad);
        if (msg.value > type(uint96).max) revert IModelpactRound.BondTooLarge(msg.value, type(uint96).max);
        if (c.participantBond > type(uint96).max) {
            revert IModelpactRound.BondTooLarge(c.participantBond, type(uint96).max);
        }
    }

    function _storeCurve(IModelpactRound.CurveKnot[] calldata curve_) internal {
        uint256 knotCount = curve_.length;
        if (knotCount > MAX_KNOTS) revert IModelpactRound.CurveTooLong(knotCount, MAX_KNOTS);
        for (uint256 i = 0; i < knotCount; ++i) {
            IModelpactRound.CurveKnot memory k = curve_[i];
            if (k.accuracyWad > _WAD || (i > 0 && curve_[i - 1].dataCount >= k.dataCount)) {
                revert IModelpactRound.CurveNotAscending(i);
            }
            _curve.push((uint128(k.dataCount) << 64) | k.accuracyWad);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Challenge evidence
    // ------------------------------------------------------------------------------------------

    /// @dev Checks the evidence of a challenge against the post commitment, the test-set root and
    ///      the test row count; returns the fraud it proves, or reverts with the named error that
    ///      says why the evidence shows none. `kind` may differ from `c.kind` when the evidence
    ///      shows a more basic fraud first (a malformed model or an unevaluable row found while
    ///      checking a prediction); `rung` is 0 for a test-set fraud.
    function _verifyChallenge(IModelpactRound.Challenge calldata c)
        private
        view
        returns (IModelpactRound.FraudKind kind, uint256 rung, uint256 row)
    {
        bytes32 testSetRoot = _testSetCommitment();
        uint256 testRowCount = _testRowCount();
        kind = c.kind;
        row = c.row;
        if (kind == IModelpactRound.FraudKind.UnevaluableTestRow) {
            _checkTestRow(c, testSetRoot, testRowCount);
            if (_evaluable(c.testRow)) revert IModelpactRound.TestRowEvaluable(row);
            return (kind, 0, row);
        }
        // The ABI decoder refuses values beyond the last kind; None names no fraud.
        if (kind == IModelpactRound.FraudKind.None) revert IModelpactRound.UnknownFraudKind(uint8(kind));
        rung = c.rung;
        IModelpactRound.ModelCommitment calldata m = _postedModel(c);
        if (kind == IModelpactRound.FraudKind.LogRootMismatch) {
            _checkLogRoot(c, m, testRowCount);
        } else if (kind == IModelpactRound.FraudKind.WrongAccuracy) {
            _checkAccuracy(c, m, testRowCount);
        } else if (kind == IModelpactRound.FraudKind.BrokenCount) {
            _checkTestRow(c, testSetRoot, testRowCount);
            _checkCount(c, m, testRowCount);
        } else {
            // WrongPrediction and MalformedModel: both evaluate the model bytes on row j.
            _checkTestRow(c, testSetRoot, testRowCount);
            kind = _checkModelOnRow(c, m, testRowCount);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Evidence
    // ------------------------------------------------------------------------------------------

    /// @dev `c.posted` must be the post commitment's preimage; returns the entry of `c.rung`
    ///      (entry 0 = the collective model = rung L + 1, entry i = tier rung i).
    function _postedModel(IModelpactRound.Challenge calldata c)
        private
        view
        returns (IModelpactRound.ModelCommitment calldata)
    {
        bytes32 postCommitment = _postCommitment;
        bytes32 computed = keccak256(abi.encode(c.posted));
        if (computed != postCommitment) revert IModelpactRound.PostedListMismatch(postCommitment, computed);
        uint256 models = c.posted.length;
        if (c.rung == 0 || c.rung > models) revert IModelpactRound.TierOutOfRange(c.rung, models - 1);
        return c.posted[c.rung % models];
    }

    /// @dev Row j < T with its values under the test-set root (OpenZeppelin StandardMerkleTree
    ///      leaf of ("uint256","int256[]"), sorted-pair proof).
    function _checkTestRow(IModelpactRound.Challenge calldata c, bytes32 testSetRoot, uint256 testRowCount)
        private
        pure
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(c.row, c.testRow))));
        if (c.row >= testRowCount || !MerkleProof.verifyCalldata(c.testProof, testSetRoot, leaf)) {
            revert IModelpactRound.TestRowNotCommitted(c.row);
        }
    }

    /// @dev Leaf `index` of model `m`'s log, with its positional proof.
    function _checkLeaf(
        IModelpactRound.Challenge calldata c,
        IModelpactRound.ModelCommitment calldata m,
        uint256 testRowCount,
        IModelpactRound.LogLeaf calldata leaf,
        uint256 index
    ) private pure {
        if (!EvalLog.verifyLeaf(leaf.proof, m.logRoot, testRowCount, index, leaf.predicted, leaf.count)) {
            revert IModelpactRound.LogLeafNotCommitted(c.rung, index);
        }
    }

    /// @dev A row the models can be evaluated on: a label and at least one feature, every feature
    ///      within int64 (the label is compared, never evaluated, so any value is fine).
    function _evaluable(int256[] calldata testRow) private pure returns (bool) {
        return testRow.length >= 2 && ModelEval.featuresInRange(testRow[:testRow.length - 1]);
    }

    // ------------------------------------------------------------------------------------------
    // Fraud kinds
    // ------------------------------------------------------------------------------------------

    /// @dev (a) and (d): the model bytes under the posted hash, evaluated on row j against leaf j.
    ///      An unevaluable row proves (e), a model malformed for the row's width proves (d), and
    ///      only then is the prediction compared (a).
    function _checkModelOnRow(
        IModelpactRound.Challenge calldata c,
        IModelpactRound.ModelCommitment calldata m,
        uint256 testRowCount
    ) private pure returns (IModelpactRound.FraudKind) {
        bytes32 computed = keccak256(c.model);
        if (computed != m.modelHash) revert IModelpactRound.ModelHashMismatch(c.rung, m.modelHash, computed);
        if (!_evaluable(c.testRow)) return IModelpactRound.FraudKind.UnevaluableTestRow;
        uint256 features = c.testRow.length - 1;
        if (!ModelEval.wellFormed(c.model, features)) return IModelpactRound.FraudKind.MalformedModel;
        if (c.kind == IModelpactRound.FraudKind.MalformedModel) {
            revert IModelpactRound.ModelWellFormed(c.rung, features);
        }
        _checkLeaf(c, m, testRowCount, c.leaf, c.row);
        uint256 predicted = ModelEval.predict(c.model, c.testRow[:features]);
        if (predicted == c.leaf.predicted) revert IModelpactRound.PredictionCorrect(c.rung, c.row, predicted);
        return IModelpactRound.FraudKind.WrongPrediction;
    }

    /// @dev (b): count_j must be count_{j-1} + (logged prediction_j == label_j), count_{-1} = 0.
    function _checkCount(
        IModelpactRound.Challenge calldata c,
        IModelpactRound.ModelCommitment calldata m,
        uint256 testRowCount
    ) private pure {
        uint256 j = c.row;
        _checkLeaf(c, m, testRowCount, c.leaf, j);
        uint256 before = 0;
        if (j > 0) {
            _checkLeaf(c, m, testRowCount, c.previous, j - 1);
            before = c.previous.count;
        }
        // A row without values has no label: nothing can be correct on it (it is fraud (e) anyway).
        uint256 n = c.testRow.length;
        int256 label = n == 0 ? int256(-1) : c.testRow[n - 1];
        // label >= 0 is checked first, so the cast keeps its value.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 hit = label >= 0 && uint256(label) == c.leaf.predicted ? 1 : 0;
        // A count of 2^256 - 1 before a hit is as broken as any other: compare without overflow.
        bool follows = c.leaf.count >= hit && c.leaf.count - hit == before;
        if (follows) revert IModelpactRound.CountCorrect(c.rung, j, c.leaf.count);
    }

    /// @dev (c): leaf T - 1's count must give exactly the posted accuracy.
    function _checkAccuracy(
        IModelpactRound.Challenge calldata c,
        IModelpactRound.ModelCommitment calldata m,
        uint256 testRowCount
    ) private pure {
        uint256 last = testRowCount - 1;
        if (c.row != last) revert IModelpactRound.NotLastRow(c.row, last);
        _checkLeaf(c, m, testRowCount, c.leaf, last);
        uint256 count = c.leaf.count;
        // count <= T <= MAX_TEST_ROWS keeps the product in range; a larger count is wrong anyway.
        if (count <= testRowCount && RoundMath.accuracyOfCount(count, testRowCount) == m.accuracyWad) {
            revert IModelpactRound.AccuracyMatches(c.rung, count, m.accuracyWad);
        }
    }

    /// @dev (f): the positional tree rebuilt from the posted log bytes must be the posted root.
    ///      The only O(T) path (T <= MAX_TEST_ROWS = 4,096 rows: 0.64M gas at 360 rows, 9.2M at 4,096).
    function _checkLogRoot(
        IModelpactRound.Challenge calldata c,
        IModelpactRound.ModelCommitment calldata m,
        uint256 testRowCount
    ) private pure {
        bytes32 computed = keccak256(c.log);
        if (computed != m.logHash) revert IModelpactRound.LogHashMismatch(c.rung, m.logHash, computed);
        if (logRoot(c.log, testRowCount) == m.logRoot) revert IModelpactRound.LogRootMatches(c.rung, m.logRoot);
    }
}
