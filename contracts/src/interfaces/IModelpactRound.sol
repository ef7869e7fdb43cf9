// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IModelpactRound (v2)
/// @notice One round of collaborative machine learning paid with models: an immutable menu of
///         options (rows of data to contribute, share of the collective model promised), committed
///         datasets and randomness, a budget-checked list of reward models held to the committed
///         accuracy curve, and pull-based payments that never expire.
/// @dev    PHASES (`phase()` derives the current one; every deadline is inclusive: an action "until
///         D" is allowed while block.timestamp <= D):
///           Join      until `joinDeadline` or capacity N (<= MAX_CAPACITY = 2000, so naming every
///                     joiner undelivered fits one transaction): participants join with an option, a data
///                     root, a randomness commitment and the participant bond b.
///           Cancelled joining closed with fewer than `quorum` Q joiners (no call needed), or the
///                     coordinator called `cancelBelowQuorum` because fewer than Q delivered. Final.
///           Post      after Join, until `postDeadline`: the coordinator reveals its secret, then
///                     posts the collective model and the reward tiers, names the undelivered
///                     participants, and the curve check runs. Posting (or cancelling) opens only
///                     after the DATA WINDOW: MIN_WINDOW after joining closed (the join that filled
///                     the round, else the join deadline; `dataDeadline()`), so every joiner had
///                     an hour to deliver its data before it can be named undelivered (issue 11.7).
///           Aborted   the coordinator missed `postDeadline` with >= Q joiners. Final.
///           Reveal    from posting until the reveal deadline, or until every deliverer revealed.
///           Claim     after Reveal, until the claim deadline (challenges and disputes end with it).
///           Closed    after the claim deadline. Final. Claims and withdrawals still work.
///         WINDOWS. `joinDeadline` and `postDeadline` are absolute unix seconds, with
///         postDeadline > joinDeadline + MIN_WINDOW (the data window fits before it). The rest are
///         durations fixed at deployment and measured from the moment models are posted, so a
///         post at the last allowed second still leaves every later window its full length:
///             revealDeadline   = postedAt + revealWindow
///             deliveryDeadline = revealDeadline + deliveryWindow
///             claimDeadline    = deliveryDeadline + claimWindow
///         Each window is at least MIN_WINDOW = 1 hour: 300 Ethereum slots of 12 s, and 1,800 to
///         14,400 blocks on rollups with 2 s to 0.25 s blocks. A transaction with an ordinary fee
///         lands within minutes on all of them; an hour absorbs a congestion spike, a wallet or
///         node restart, or a sequencer outage of the length seen so far (tens of minutes). It is
///         a floor that stops a deadline trap, not a recommended length: the coordinator's tools
///         default to longer windows, and three minimal windows still let a round finish within a
///         day. Only the reveal window can cost a participant anything (its bond): claims and
///         refunds have no deadline.
///         FIXED POINT (unsigned integers):
///           WAD = 1e18. `ratioWad`, accuracies, `curveToleranceWad` and the shortfall are
///           fractions times 1e18 (<= 1e18). `promisedValueWad` (t) and `budgetValueWad` (t_bar)
///           are model values times 1e18. `shortfallWeiPerWad` (rho) is wei per 1.0 of
///           ratio-weighted accuracy shortfall. Bonds are wei, below 2^96 (8e10 ether: more than
///           all ether in existence, and what lets the bond's accounting pack into one slot).
///           A posted accuracy is an exact count over the T = `testRowCount` committed test rows:
///           accuracyWad == floor(correctCount * 1e18 / T) (injective in the count for T <= 1e18).
///         HASH PREIMAGES (abi.encode, never packed):
///           participant commitment = keccak256(abi.encode(bytes32 secret, uint256 deliveryKeyX,
///                                      uint256 deliveryKeyY, address participant, address round,
///                                      uint256 chainid))
///             (deliveryKey P = (X, Y) is the participant's alt_bn128 public key for this round;
///             binding the address makes another participant's data root unusable at reveal/claim)
///           stored under the data root = keccak256(abi.encode(bytes32 commitment, address joiner))
///             (binding the JOINER too: a commitment some other address joined with, e.g. a Sybil
///             seat's commitment naming the participant, never opens for it: one secret each)
///           coordinator commitment = keccak256(abi.encode(bytes32 secret, address coordinator,
///                                      bytes32 scenarioHash, uint256 chainid))
///           draw seed of participant #index = keccak256(abi.encode(bytes32 coordinatorSecret,
///                                      bytes32 participantSecret, address round, uint256 index))
///           data root: OpenZeppelin StandardMerkleTree over leaves ("address","uint256","int256[]")
///                      = (participant, row index, row values); leaf =
///                      keccak256(bytes.concat(keccak256(abi.encode(participant, index, values))))
///           test-set root: the same tree over ("uint256","int256[]") = (row index, row values)
///           model hash: keccak256 of the model's bytes (the canonical integer model, ModelEval.sol)
///           log root: the positional evaluation-log tree of a posted model (EvalLog.sol), leaf j =
///                     keccak256(bytes.concat(keccak256(abi.encode(j, predictedLabel,
///                     runningCorrect)))) for j < testRowCount; the last running count gives the
///                     posted accuracy.
///         RUNGS: rung 0 = no model (accuracy 0), rungs 1..L = posted tiers (strictly ascending,
///         strictly below the collective model, all hashes distinct), rung L+1 = the collective
///         model. target = ratioWad * collectiveAccuracyWad / WAD (floor). With lo <= target <= hi
///         the neighbouring rungs, the participant gets hi iff uint256(seed) % (hi - lo) < target
///         - lo, so its expected accuracy is exactly the target.
///         MONEY (b = participant bond, B = coordinator bond, J joined, d delivered, r revealed;
///         revealers are deliverers). No payment has a deadline, and no rule pays the coordinator
///         anything a participant is owed or forfeits:
///           claim (revealed)  b + (entitlement - paidFromBond). A deliverer that does not reveal
///                             forfeits its bond, which is BURNED (stays in the contract for ever):
///                             shared among the revealers, it would pay any seat the coordinator
///                             holds (its word decides who delivered) for an honest participant's
///                             missed window. `slashShare()` and the Claimed event's slashShare
///                             are always 0 (kept in the ABI for v2 decoders).
///           undelivered       a participant the coordinator names undelivered forfeits its bond,
///                             which is BURNED (stays in the contract for ever), not shared. A
///                             delivery is the coordinator's word and the coordinator may hold
///                             participant accounts of its own: if undelivered bonds went to the
///                             deliverers, naming honest participants undelivered would pay their
///                             bonds to its own accounts. Burned, a false exclusion profits no one
///                             (contract-v2.md section 4 said "to the revealing deliverers"; this
///                             is a deliberate change, found by the adversarial review).
///           Aborted           each joiner: b + floor(B / J).
///           Cancelled         fewer than Q joined (joining closed into a cancel by itself): each
///                             joiner b, the coordinator sweeps B at once.
///                             The coordinator's `cancelBelowQuorum` (always with J >= Q): each
///                             participant not named undelivered exactly b; the named forfeit their
///                             bonds and the coordinator forfeits all of B, all BURNED (`burned()`;
///                             the sweep pays nothing). A false cancel costs the coordinator B,
///                             what a default costs it, and no account (its own seats, a griefer's
///                             delivering seats) collects any of B or of a named bond: a cancel
///                             profits nobody, so griefing one is spite, never profit.
///           entitlement       out of B, per deliverer i (fixed at post, raised by proofs):
///                               fraudReward = floor(B * FRAUD_REWARD_BPS / 10000)
///                               allot       = floor((B - fraudReward) / d)
///                               curveComp_i = min(allot, floor(ratio_i * shortfall * rho / 1e36))
///                               entitlement_i = allot if fraud was proven or i's delivery failed,
///                                               else curveComp_i.
///                             Claim pays what is known then; `withdrawCompensation` pays any later
///                             increase to any deliverer, revealed or not. Sum of entitlements +
///                             fraudReward <= B.
///           sweep             once, to the coordinator: after the claim deadline B - liability
///                             (liability = the sum of all entitlements; all of B after fraud);
///                             at once when Aborted or cancelled by the coordinator (B - J *
///                             floor(B / J)) or cancelled because fewer than Q joined (B).
///         CURVE COMPENSATION (issue 13). The committed curve predicts the collective accuracy for
///         the rows actually delivered; shortfall = max(0, predicted - tau - measured). A
///         participant promised ratio_i of the collective model's value is paid ratio_i x
///         shortfall x rho wei, rho = (valuation scale in value units per 1.0 accuracy) x (wei per
///         value unit), capped by its allot: the coordinator pays back in money every value unit it
///         over-promised beyond the stated tolerance tau. Within tau an overstated curve would
///         buy rows for free, so the tools grant tau > 0 only to a curve its data record learns
///         again (an honest curve then costs nothing in expectation beyond the tail outside tau)
///         and deploy any unchecked curve with tau = 0 (SECURITY.md, "Curve compensation").
///         The cap means a bond B covers a collective shortfall of at most
///         allot * 1e36 / (ratio_max * rho) WAD for the largest ratio.
///         POSTED LOGS AND THE POST COMMITMENT (issue 14). postModels takes, for each posted model
///         (collective first, then the tiers), its packed evaluation log: 3 bytes per test row j
///         (uint8 predicted label, uint16 running count, big-endian), length exactly 3 * T, with
///         T <= MAX_TEST_ROWS = 4,096. The logs stay in the transaction input (available data,
///         not stored, not emitted). The round stores ONE commitment,
///           postCommitment = keccak256(abi.encode(ModelCommitment[])), entry 0 the collective
///           model, entry i tier i - 1 (= rung i); ModelCommitment = (modelHash, accuracyWad,
///           logRoot, logHash = keccak256(packed log)).
///         The views tier(), collectiveModel() and rungModel() return logRoot = 0 (the roots live in
///         the commitment and in the ModelsPosted event).
///         FRAUD PROOFS. `challenge(evidence)`: anyone, from the post until the claim deadline, once
///         per round (the first proof settles the bond). Each kind is O(model size + log T) except
///         (f), which is O(T) (0.64M gas at T = 360, about 9.2M at T = 4,096):
///           (a) WrongPrediction      leaf j's label != the model's argmax on test row j;
///           (b) BrokenCount          count_j != count_{j-1} + (logged label_j == row label_j),
///                                    count_{-1} = 0 (no model needed);
///           (c) WrongAccuracy        floor(count_{T-1} * 1e18 / T) != the posted accuracy;
///           (d) MalformedModel       the bytes under a posted hash are no MPIM/1 model for rows
///                                    of the committed width;
///           (e) UnevaluableTestRow   a committed row has no feature or a value outside int64
///                                    (the test set itself cannot be evaluated; rung 0 in the event);
///           (f) LogRootMismatch      the positional tree of the posted log bytes is not the posted
///                                    log root (closes the hole of a root with unopenable leaves).
///         An honest claim reverts with a named error carrying the values; a proven fraud pays
///         the challenger fraudReward at once and sets every deliverer's entitlement to its allot.
///         DELIVERY (issue 15) and CODE LAYOUT: see ModelpactProofs.sol, where challenge, deliver,
///         disputeDelivery, proveNonDelivery and the payment paths execute (DELEGATECALL from the
///         round, which is otherwise over the 24,576-byte code limit; one ABI for callers).
///         DEPLOYMENT (issue 17): a round is a clone (OpenZeppelin Clones, with immutable args) of
///         a shared ModelpactRound implementation, created and initialized in one transaction by
///         ModelpactFactory.createRound; its configuration (coordinator, bonds, Config) is the
///         clone's immutable args, its menu and curve are stored by `initialize`.
interface IModelpactRound {
    // ------------------------------------------------------------------------------------------
    // Types
    // ------------------------------------------------------------------------------------------

    /// @notice One menu option, fixed at deployment.
    struct Option {
        uint64 dataCount; // rows the participant must contribute (m)
        uint64 ratioWad; // t / t_bar, share of the collective model's value, <= 1e18
        uint128 promisedValueWad; // t, expected value of the model promised
        uint128 budgetValueWad; // t_bar, conditional expected value of the collective model
    }

    /// @notice When things happen: two absolute deadlines, then durations from the post.
    struct Schedule {
        uint64 joinDeadline; // unix seconds
        uint64 postDeadline; // unix seconds
        uint64 revealWindow; // seconds after the post, >= MIN_WINDOW
        uint64 deliveryWindow; // seconds after the reveal deadline, >= MIN_WINDOW
        uint64 claimWindow; // seconds after the delivery deadline, >= MIN_WINDOW
    }

    /// @notice Everything the coordinator fixes at deployment besides the menu and the curve.
    struct Config {
        uint32 capacity; // maximum number of participants (N)
        uint32 quorum; // minimum number of deliverers (Q), 1 <= Q <= N
        uint256 participantBond; // wei each participant posts when joining (b)
        bytes32 scenarioHash; // sha256 of the canonical scenario encoding
        bytes32 testSetCommitment; // StandardMerkleTree root of the public test set
        uint64 testRowCount; // rows under testSetCommitment (T), 1 <= T <= 1e18
        bytes32 coordinatorCommitment; // see the header for the preimage
        uint64 curveToleranceWad; // tau: allowed shortfall below the curve, <= 1e18
        uint256 shortfallWeiPerWad; // rho: wei per 1.0 of ratio-weighted accuracy shortfall
        Schedule schedule;
    }

    /// @notice The absolute deadlines; the last three are 0 until models are posted.
    struct Deadlines {
        uint256 join;
        uint256 post;
        uint256 reveal;
        uint256 delivery;
        uint256 claim;
    }

    /// @notice A point of the committed accuracy curve, used to predict the collective accuracy.
    struct CurveKnot {
        uint64 dataCount;
        uint64 accuracyWad;
    }

    /// @notice A model the coordinator posts (a reward tier or the collective model).
    struct PostedModel {
        bytes32 modelHash; // keccak256 of the model's bytes
        uint64 accuracyWad; // floor(correctCount * 1e18 / testRowCount) for the log's final count
        bytes32 logRoot; // positional Merkle root of its evaluation log (issue 14)
    }

    /// @notice What the contract remembers of each participant.
    struct Participant {
        uint32 index; // join order, 0-based
        uint8 optionId;
        bool revealed;
        bool claimed; // also set by a refund after a default or a cancel
        bool undelivered; // named by the coordinator at post or cancel: no model, bond forfeited
        bool deliveryFailed; // its model delivery was proven missing or wrong (issue 15)
        uint96 paidFromBond; // wei paid to it out of the coordinator's bond so far
    }

    enum Phase {
        Join,
        Post,
        Reveal,
        Claim,
        Closed,
        Aborted,
        Cancelled
    }

    /// @notice The three windows measured from the post, for `WindowTooShort`.
    enum Window {
        Reveal,
        Delivery,
        Claim,
        Data // postDeadline - joinDeadline: the data window (MIN_WINDOW) and at least one second
    }

    /// @notice How a posted claim was proven false (issue 14).
    enum FraudKind {
        None,
        WrongPrediction, // a logged prediction differs from the model's output on that row
        BrokenCount, // a running count does not follow from the previous leaf
        WrongAccuracy, // the final count does not give the posted accuracy
        MalformedModel, // the bytes under a posted hash are not a well-formed model for the test rows
        UnevaluableTestRow, // a committed test row has no features or a value outside int64
        LogRootMismatch // a posted log root is not the tree of the posted log bytes
    }

    /// @notice One entry of the post commitment: what was posted about a model, with the hash of
    ///         its packed evaluation log (issue 14). The commitment is keccak256(abi.encode(
    ///         ModelCommitment[])) over the collective model (entry 0) and the tiers (entry i =
    ///         tier i - 1 = rung i) in the order posted.
    struct ModelCommitment {
        bytes32 modelHash;
        uint64 accuracyWad;
        bytes32 logRoot;
        bytes32 logHash; // keccak256 of the packed log passed to postModels (3 bytes per row)
    }

    /// @notice Leaf j of a model's evaluation log, with its positional proof (EvalLog.sol).
    struct LogLeaf {
        uint256 predicted;
        uint256 count;
        bytes32[] proof;
    }

    /// @notice The evidence of a challenge (issue 14). Which fields are read depends on `kind`:
    ///           WrongPrediction     rung, posted, model, row, testRow (+ testProof), leaf
    ///           BrokenCount         rung, posted, row, testRow (+ testProof), leaf, previous (j > 0)
    ///           WrongAccuracy       rung, posted, row = T - 1, leaf
    ///           MalformedModel      rung, posted, model, row, testRow (+ testProof)
    ///           UnevaluableTestRow  row, testRow (+ testProof)
    ///           LogRootMismatch     rung, posted, log
    ///         `posted` is the whole post commitment's preimage; `rung` names the model (1..L
    ///         tiers, L + 1 the collective model; entry rung % (L + 1) of `posted`).
    struct Challenge {
        FraudKind kind;
        uint256 rung;
        ModelCommitment[] posted;
        bytes model; // the canonical model bytes (ModelEval.sol) under the posted hash
        uint256 row; // test row index j < T
        int256[] testRow; // row j's values: the features, then the label
        bytes32[] testProof; // OpenZeppelin (sorted-pair) proof of (j, testRow) against testSetCommitment
        LogLeaf leaf; // log leaf j
        LogLeaf previous; // log leaf j - 1 (BrokenCount with j > 0)
        bytes log; // the model's packed log as posted (LogRootMismatch)
    }

    /// @notice Why a participant's model delivery failed (issue 15).
    enum DeliveryFailure {
        None,
        WrongModel, // the delivered plaintext does not hash to the participant's rung
        NotDelivered // nothing delivered by the delivery deadline
    }

    // ------------------------------------------------------------------------------------------
    // Errors (the `Fix:` sentence of each @dev is the hint the wallet shows)
    // ------------------------------------------------------------------------------------------

    /// @dev The menu has no options.
    ///      Fix: deploy with at least one option.
    error EmptyMenu();
    /// @dev The menu has more options than a uint8 option id can name.
    ///      Fix: offer at most MAX_OPTIONS options.
    error MenuTooLarge(uint256 optionCount, uint256 maxOptions);
    /// @dev An option promises more than the whole collective model.
    ///      Fix: ratios are WAD fractions: keep every ratio <= 1e18.
    error RatioAboveOne(uint256 optionId, uint256 ratioWad);
    /// @dev Options must be sorted by dataCount, then ratio, non-decreasing.
    ///      Fix: sort options by dataCount, then ratio, non-decreasing.
    error OptionsNotSorted(uint256 optionId);
    /// @dev An option asks for zero rows.
    ///      Fix: ask every option for at least one row.
    error ZeroDataCount(uint256 optionId);
    /// @dev An option's promise exceeds its budget or its ratio is not floor(t * 1e18 / t_bar).
    ///      Fix: promise at most the budget (t <= t_bar) and set ratio = floor(t * 1e18 / t_bar) (one unit of slack; t_bar = 0 needs t = 0 and ratio = 0).
    error PromiseInconsistent(uint256 optionId, uint256 promisedValueWad, uint256 budgetValueWad, uint256 ratioWad);
    /// @dev capacity * the largest dataCount does not fit the uint64 data total.
    ///      Fix: lower capacity or the largest dataCount: capacity * dataCount must fit the uint64 data total.
    error DataTotalOverflow(uint256 capacity, uint256 maxDataCount);
    /// @dev Capacity must be at least one participant.
    ///      Fix: set a capacity of at least one participant.
    error ZeroCapacity();
    /// @dev The capacity exceeds MAX_CAPACITY (an undelivered list naming every joiner must fit one post).
    ///      Fix: set a capacity of at most MAX_CAPACITY participants (every one must fit an undelivered list).
    error CapacityTooLarge(uint256 capacity, uint256 maximum);
    /// @dev The quorum is zero or above the capacity.
    ///      Fix: set a quorum between 1 and the capacity.
    error QuorumOutOfRange(uint256 quorum, uint256 capacity);
    /// @dev The absolute deadlines must satisfy now < joinDeadline < postDeadline.
    ///      Fix: set deadlines with now < joinDeadline < postDeadline.
    error ScheduleInconsistent(uint256 timestamp, uint256 joinDeadline, uint256 postDeadline);
    /// @dev A window is shorter than its minimum (the three measured from the post: MIN_WINDOW;
    ///      Data, postDeadline - joinDeadline: more than MIN_WINDOW).
    ///      Fix: make every window measured from the post at least MIN_WINDOW seconds long and the post deadline more than MIN_WINDOW after the join deadline.
    error WindowTooShort(Window window, uint256 length, uint256 minimum);
    /// @dev The test set row count is zero or above 1e18.
    ///      Fix: commit a test set of 1 to 1e18 rows (testRowCount).
    error TestRowCountOutOfRange(uint256 testRowCount);
    /// @dev The curve tolerance is above 1e18 (one whole unit of accuracy).
    ///      Fix: set the curve tolerance as a WAD fraction <= 1e18.
    error ToleranceOutOfRange(uint256 curveToleranceWad);
    /// @dev A bond does not fit 96 bits.
    ///      Fix: use bonds below 2^96 wei.
    error BondTooLarge(uint256 bond, uint256 maximum);
    /// @dev Curve knots must be strictly ascending in dataCount and have accuracy <= 1e18.
    ///      Fix: give curve knots strictly ascending in dataCount with accuracy <= 1e18.
    error CurveNotAscending(uint256 knotIndex);
    /// @dev More curve knots than the contract accepts.
    ///      Fix: commit at most MAX_KNOTS curve knots.
    error CurveTooLong(uint256 knotCount, uint256 maxKnots);
    /// @dev The caller is not the coordinator.
    ///      Fix: send this action from the coordinator's account.
    error NotCoordinator(address caller);
    /// @dev The action belongs to another phase.
    ///      Fix: wait for the required phase: see phase() and deadlines().
    error WrongPhase(Phase current, Phase required);
    /// @dev Joining is over: the deadline passed or the round is full.
    ///      Fix: joining is over (deadline passed or round full): watch for the next round.
    error JoinClosed(uint256 timestamp, uint256 deadline, uint256 joined, uint256 capacity);
    /// @dev One entry per address.
    ///      Fix: each address joins once: use another account for another entry.
    error AlreadyJoined(address participant);
    /// @dev The option id does not exist.
    ///      Fix: pick an option id below optionCount().
    error UnknownOption(uint256 optionId, uint256 optionCount);
    /// @dev The committed row count must equal the option's dataCount.
    ///      Fix: commit exactly the option's dataCount rows.
    error WrongRowCount(uint256 optionId, uint256 required, uint256 committed);
    /// @dev The bond sent must equal the participant bond.
    ///      Fix: send exactly the participant bond from config().
    error WrongBond(uint256 required, uint256 sent);
    /// @dev A zero data root or randomness commitment.
    ///      Fix: commit a non-zero data root, randomness commitment, model hash and log root.
    error ZeroCommitment();
    /// @dev Another participant already committed this data root (leaves bind the contributor's address).
    ///      Fix: this data root is already committed: build your tree over your own address and rows.
    error DuplicateDataRoot(bytes32 dataRoot);
    /// @dev The coordinator's secret was already revealed.
    ///      Fix: the coordinator's secret is already on chain: go on with postModels.
    error CoordinatorAlreadyRevealed();
    /// @dev The coordinator's secret does not match its commitment.
    ///      Fix: reveal the exact secret whose commitment was deployed.
    error CoordinatorRevealMismatch(bytes32 committed, bytes32 computed);
    /// @dev Models can be posted only after the coordinator revealed.
    ///      Fix: call revealCoordinator before postModels.
    error CoordinatorNotRevealed();
    /// @dev More tiers than the contract accepts.
    ///      Fix: post at most MAX_TIERS reward tiers.
    error TooManyTiers(uint256 tierCount, uint256 maxTiers);
    /// @dev A posted accuracy is not an exact count over the test set.
    ///      Fix: post each accuracy as floor(correctCount * 1e18 / testRowCount) for a count of 1 to testRowCount (rung = tier index + 1; the collective model is tierCount + 1).
    error AccuracyNotCount(uint256 rung, uint256 accuracyWad, uint256 testRowCount);
    /// @dev The budget constraint: a tier must be strictly worse than the collective model.
    ///      Fix: make every tier strictly worse than the collective model (the budget constraint).
    error TierAboveCollective(uint256 tierIndex, uint256 tierAccuracyWad, uint256 collectiveAccuracyWad);
    /// @dev Tiers must be strictly ascending in accuracy, with non-zero accuracy and hash.
    ///      Fix: post tiers strictly ascending in accuracy with non-zero accuracy.
    error TiersNotAscending(uint256 tierIndex);
    /// @dev Two posted models share a hash.
    ///      Fix: post each model once: every model hash must differ from the others.
    error DuplicateModelHash(uint256 rung, bytes32 modelHash);
    /// @dev The undelivered list is not strictly ascending or names an address that never joined.
    ///      Fix: list undelivered participants once each, as joined addresses in strictly ascending order.
    error UndeliveredListInvalid(uint256 position, address account);
    /// @dev Fewer than quorum participants delivered: the models cannot be posted.
    ///      Fix: fewer than quorum participants delivered: call cancelBelowQuorum instead of postModels.
    error BelowQuorum(uint256 delivered, uint256 quorum);
    /// @dev Posting and cancelling open after the data window (MIN_WINDOW after joining closed).
    ///      Fix: wait until dataDeadline() has passed: participants have MIN_WINDOW after joining closes to deliver their data.
    error DataWindowOpen(uint256 timestamp, uint256 dataDeadline);
    /// @dev At least quorum participants delivered: the round cannot be cancelled.
    ///      Fix: at least quorum participants delivered: post the models instead of cancelling.
    error QuorumReached(uint256 delivered, uint256 quorum);
    /// @dev The tier index does not exist.
    ///      Fix: pass a tier index below tierCount() (or a rung from 1 to tierCount() + 1).
    error TierOutOfRange(uint256 tierIndex, uint256 tierCount);
    /// @dev The address never joined.
    ///      Fix: this address never joined the round: use the joining account.
    error NotParticipant(address account);
    /// @dev The coordinator named this participant undelivered at post.
    ///      Fix: the coordinator named this participant undelivered: it gets no model and no refund.
    error ParticipantUndelivered(address participant);
    /// @dev The participant already revealed.
    ///      Fix: the secret is already revealed: wait for the claim phase.
    error AlreadyRevealed(address participant);
    /// @dev The revealed secret does not match the participant's commitment, or another address
    ///      joined with that data root. Both values are as stored: keccak256(abi.encode(commitment,
    ///      joiner)), the opened one with joiner = the caller.
    ///      Fix: send the data root, secret and delivery key committed at join, from the joining account.
    error RevealMismatch(address participant, bytes32 committed, bytes32 computed);
    /// @dev The delivery key is not a point of alt_bn128.
    ///      Fix: use a delivery key that is a point of alt_bn128 (y^2 = x^3 + 3, not the point at infinity).
    error InvalidDeliveryKey(uint256 x, uint256 y);
    /// @dev A participant who did not reveal forfeits bond and reward.
    ///      Fix: a participant who did not reveal forfeits its bond and model: nothing to claim.
    error NotRevealed(address participant);
    /// @dev Claims and refunds happen once.
    ///      Fix: claims and refunds happen once: use withdrawCompensation for later compensation.
    error AlreadyClaimed(address participant);
    /// @dev Nothing is owed to this account now.
    ///      Fix: nothing is owed to this account now: check entitlement().
    error NothingOwed(address account);
    /// @dev Sweeping is possible only after the claim deadline (or in an empty round).
    ///      Fix: sweep after the claim deadline (at once after a default or a cancel).
    error SweepTooEarly(uint256 timestamp, uint256 opensAt);
    /// @dev The round was swept already.
    ///      Fix: the round was swept already.
    error AlreadySwept();
    /// @dev An ETH transfer failed.
    ///      Fix: the receiving account rejected ETH: send from an account that accepts it.
    error TransferFailed(address to, uint256 amount);
    /// @dev postModels needs one packed log per posted model (collective first, then the tiers).
    ///      Fix: pass exactly tierCount + 1 logs, the collective model's first, then the tiers' in order.
    error LogCountMismatch(uint256 logCount, uint256 modelCount);
    /// @dev A packed log must hold 3 bytes per test row (uint8 label, uint16 running count).
    ///      Fix: pack every log as 3 * testRowCount bytes: per row the predicted label (1 byte) and the running count (2 bytes, big-endian).
    error LogLengthMismatch(uint256 position, uint256 length, uint256 expected);
    /// @dev The test set has more rows than a log-root fraud proof can rebuild within a block.
    ///      Fix: commit a test set of at most MAX_TEST_ROWS = 4096 rows.
    error TooManyTestRows(uint256 testRowCount, uint256 maximum);
    /// @dev Challenges and delivery disputes close at the claim deadline.
    ///      Fix: the proof window is over (claim deadline passed): nothing can be proven any more.
    error ProofWindowClosed(uint256 timestamp, uint256 claimDeadline);
    /// @dev Fraud was already proven in this round; the first proof settled the coordinator's bond.
    ///      Fix: fraud is already proven: call withdrawCompensation (participants) instead of challenging.
    error FraudAlreadyProven();
    /// @dev A challenge must name a fraud kind.
    ///      Fix: set the challenge's kind to one of WrongPrediction .. LogRootMismatch.
    error UnknownFraudKind(uint256 kind);
    /// @dev The posted list passed with a challenge is not what was posted.
    ///      Fix: pass every posted model (collective first, then the tiers) with its log root and the keccak256 of its posted log, as in postCommitment().
    error PostedListMismatch(bytes32 committed, bytes32 computed);
    /// @dev The model bytes do not hash to the posted model hash of that rung.
    ///      Fix: pass the exact model bytes whose keccak256 is the rung's posted model hash.
    error ModelHashMismatch(uint256 rung, bytes32 posted, bytes32 computed);
    /// @dev The test row is not under the committed test set (or its index is not below testRowCount).
    ///      Fix: pass test row j < testRowCount with its values and its proof against testSetCommitment.
    error TestRowNotCommitted(uint256 row);
    /// @dev A log leaf does not open the rung's posted log root at that position.
    ///      Fix: pass leaf j (and leaf j - 1) of the rung's posted log with their positional proofs (EvalLog.sol).
    error LogLeafNotCommitted(uint256 rung, uint256 row);
    /// @dev A WrongAccuracy challenge proves the last leaf of a log.
    ///      Fix: challenge the accuracy with leaf testRowCount - 1.
    error NotLastRow(uint256 row, uint256 lastRow);
    /// @dev The log bytes do not hash to the posted log hash of that rung.
    ///      Fix: pass the rung's packed log exactly as it was passed to postModels.
    error LogHashMismatch(uint256 rung, bytes32 posted, bytes32 computed);
    /// @dev No fraud: the logged prediction is what the model predicts on that row.
    ///      Fix: this log entry is honest: check another row or another model.
    error PredictionCorrect(uint256 rung, uint256 row, uint256 predicted);
    /// @dev No fraud: the running count follows from the previous leaf and the row's label.
    ///      Fix: this running count is honest: check another row or another model.
    error CountCorrect(uint256 rung, uint256 row, uint256 count);
    /// @dev No fraud: the final count gives exactly the posted accuracy.
    ///      Fix: the posted accuracy matches the log's final count: check the log's rows instead.
    error AccuracyMatches(uint256 rung, uint256 count, uint256 accuracyWad);
    /// @dev No fraud: the model bytes are a well-formed model for rows of that width.
    ///      Fix: this model is well formed: challenge its predictions instead.
    error ModelWellFormed(uint256 rung, uint256 features);
    /// @dev No fraud: the test row has features and every value is within int64.
    ///      Fix: this test row is evaluable: challenge a model's prediction on it instead.
    error TestRowEvaluable(uint256 row);
    /// @dev No fraud: the posted log root is the positional tree of the posted log bytes.
    ///      Fix: this log matches its root: challenge one of its rows instead.
    error LogRootMatches(uint256 rung, bytes32 logRoot);
    /// @dev Deliveries close at the delivery deadline.
    ///      Fix: the delivery deadline has passed: the participant may now prove non-delivery.
    error DeliveryClosed(uint256 timestamp, uint256 deliveryDeadline);
    /// @dev Each participant is delivered to once.
    ///      Fix: this participant already has a delivery on chain: nothing to resend.
    error AlreadyDelivered(address participant);
    /// @dev A ciphertext longer than MAX_DELIVERY_BYTES (its dispute must fit a block).
    ///      Fix: deliver models of at most MAX_DELIVERY_BYTES bytes: post smaller models.
    error DeliveryTooLong(uint256 length, uint256 maxLength);
    /// @dev The secret key does not give the delivery key in the participant's commitment (or the
    ///      caller did not join with that data root); values as in RevealMismatch.
    ///      Fix: pass the delivery secret key whose public key you committed at join (with the same data root and secret).
    error DeliveryKeyMismatch(address participant, bytes32 committed, bytes32 computed);
    /// @dev The ephemeral key and ciphertext are not the delivery stored for the participant.
    ///      Fix: pass the ephemeral key and ciphertext of your Delivered event exactly.
    error DeliveryNotStored(address participant, bytes32 stored, bytes32 computed);
    /// @dev No dispute: the delivery decrypts to the model of the participant's rung.
    ///      Fix: this delivery is correct: decrypt it with your delivery key to get your model.
    error DeliveryCorrect(address participant, bytes32 modelHash);
    /// @dev The participant drew rung 0 (no model): no delivery is owed.
    ///      Fix: your rung is 0: no model is owed, so there is nothing to dispute.
    error NoModelOwed(address participant);
    /// @dev The participant's delivery is already recorded as failed.
    ///      Fix: the failure is already recorded: call withdrawCompensation if anything is unpaid.
    error DeliveryAlreadyFailed(address participant);
    /// @dev Non-delivery is proven only after the delivery deadline.
    ///      Fix: wait until the delivery deadline has passed (see deadlines()).
    error DeliveryWindowOpen(uint256 timestamp, uint256 deliveryDeadline);
    /// @dev Something was delivered: a wrong delivery is disputed, not reported as missing.
    ///      Fix: a delivery exists: decrypt it, and call disputeDelivery if it is not your model.
    error DeliveryExists(address participant);
    /// @dev The delivery secret key is not a scalar in [1, n - 1] of alt_bn128.
    ///      Fix: pass the delivery secret key of this round (1 <= key < the alt_bn128 group order).
    error InvalidSecretKey();
    /// @dev `initialize` ran on a contract that is not a round clone (an implementation called
    ///      directly, or a clone with other args): implementations are never initialized.
    ///      Fix: create rounds through ModelpactFactory.createRound, never call initialize yourself.
    error NotAClone(address account);
    /// @dev `initialize` was not called by the factory named in the clone's args, or that caller
    ///      does not run ModelpactFactory's code: only a genuine factory initializes its own clones.
    ///      Fix: create rounds through ModelpactFactory.createRound, never call initialize yourself.
    error NotFactory(address caller, address factory);
    /// @dev `initialize` ran before on this round (it has a menu).
    ///      Fix: nothing to do: the round is set up; create a new one through the factory.
    error AlreadyInitialized();
    /// @dev The value sent to `initialize` is not the coordinator bond named in the clone's args.
    ///      Fix: create rounds through ModelpactFactory.createRound (it sends msg.value as the bond).
    error CoordinatorBondMismatch(uint256 coordinatorBond, uint256 sent);

    // ------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------

    /// @notice The round was deployed with this menu and configuration.
    event RoundPublished(
        address indexed coordinator,
        bytes32 indexed scenarioHash,
        Option[] menu,
        Config config,
        CurveKnot[] curve,
        uint256 coordinatorBond
    );
    /// @notice A participant joined.
    event Joined(
        address indexed participant,
        uint256 indexed index,
        uint256 optionId,
        bytes32 dataRoot,
        uint256 rowCount,
        bytes32 commitment,
        uint256 bond,
        uint256 totalData
    );
    /// @notice The coordinator revealed its randomness secret.
    event CoordinatorRevealed(bytes32 secret);
    /// @notice The coordinator named a participant whose data did not arrive or failed checks.
    event Undelivered(address indexed participant, uint256 indexed index);
    /// @notice Too few participants delivered: the round is cancelled with refunds.
    ///         `burned`: what the cancel burned (named bonds plus, after the coordinator's cancel,
    ///         its bond B), equal to `burned()` from then on.
    event RoundCancelled(uint256 joined, uint256 delivered, uint256 quorum, uint256 burned);
    /// @notice The collective model and the reward tiers were posted and passed the budget check.
    event ModelsPosted(
        PostedModel collective, PostedModel[] tiers, uint256 delivered, uint256 deliveredRows, uint256 revealDeadline
    );
    /// @notice The measured collective accuracy against the committed curve for the delivered rows,
    ///         and what the coordinator's bond now owes.
    event CurveChecked(
        uint256 deliveredRows,
        uint256 predictedAccuracyWad,
        uint256 measuredAccuracyWad,
        uint256 toleranceWad,
        uint256 shortfallWad,
        uint256 allot,
        uint256 liability
    );
    /// @notice A participant revealed its secret and delivery key; `drawSeed` decides its rung.
    event Revealed(
        address indexed participant,
        uint256 indexed index,
        bytes32 secret,
        uint256 deliveryKeyX,
        uint256 deliveryKeyY,
        bytes32 drawSeed
    );
    /// @notice A participant claimed: its rung, and what it was paid.
    event Claimed(
        address indexed participant,
        uint256 indexed index,
        uint256 optionId,
        uint256 targetAccuracyWad,
        uint256 rung,
        uint256 accuracyWad,
        bytes32 modelHash,
        uint256 bondRefund,
        uint256 slashShare,
        uint256 compensation
    );
    /// @notice A deliverer was paid an increase of its entitlement out of the coordinator's bond.
    event CompensationPaid(address indexed participant, uint256 amount, uint256 paidFromBond);
    /// @notice The coordinator defaulted; a participant took back its bond plus compensation.
    event DefaultRefunded(address indexed participant, uint256 bond, uint256 compensation);
    /// @notice The round was cancelled; a participant not named undelivered took back its bond
    ///         (`compensation` is always 0 since the coordinator's cancel burns B; kept for decoders).
    event CancelRefunded(address indexed participant, uint256 bond, uint256 compensation);
    /// @notice A posted claim was proven false: the coordinator's bond now belongs to participants.
    event FraudProven(FraudKind kind, uint256 rung, uint256 row, address indexed challenger, uint256 reward);
    /// @notice The coordinator delivered a participant's model, encrypted to its delivery key
    ///         (shared point S = e * P, keystream keccak256(abi.encode(S.x, S.y, k)); DeliveryCipher.sol).
    event Delivered(address indexed participant, uint256 ephemeralX, uint256 ephemeralY, bytes ciphertext);
    /// @notice A participant's model delivery failed; its entitlement is now its allot.
    event DeliveryFailed(address indexed participant, DeliveryFailure reason, uint256 entitlement);
    /// @notice The coordinator's part of its bond went back to it; `liability` stays for participants.
    event Swept(address indexed to, uint256 amount, uint256 liability);

    // ------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------

    /// @notice Sets up a round clone (issue 17): called once, by the ModelpactFactory that created
    ///         it (`createRound`), with the coordinator bond as msg.value. Checks and stores the
    ///         menu, checks the configuration (the clone's immutable args), stores the curve and
    ///         emits RoundPublished: what the constructor did before rounds were clones; the same
    ///         checks revert with the same errors (EmptyMenu, ScheduleInconsistent, ...).
    /// @dev    The clone's immutable args are abi.encode(address factory, address coordinator,
    ///         uint256 coordinatorBond, Config config) (17 words). Reverts NotAClone on an
    ///         implementation, NotFactory unless msg.sender is the args' factory and runs
    ///         ModelpactFactory's code, AlreadyInitialized the second time, and
    ///         CoordinatorBondMismatch unless msg.value is the args' coordinator bond.
    /// @param  menu  options sorted by (dataCount, ratioWad), non-decreasing, each consistent
    ///               (t <= t_bar, ratio = floor(t * 1e18 / t_bar) within one unit).
    /// @param  curve committed accuracy curve, strictly ascending in dataCount (may be empty).
    function initialize(Option[] calldata menu, CurveKnot[] calldata curve) external payable;

    /// @notice Join with `optionId`, committing a dataset of `rowCount` rows and a randomness hash.
    /// @dev    msg.value must equal the participant bond; the data root must be new to the round.
    function join(uint8 optionId, bytes32 dataRoot, uint64 rowCount, bytes32 commitment) external payable;

    /// @notice The coordinator reveals its randomness secret (Post phase, before posting models).
    function revealCoordinator(bytes32 secret) external;

    /// @notice The coordinator posts the collective model and the reward tiers, naming the joined
    ///         participants whose data did not arrive (strictly ascending addresses). Runs the
    ///         budget check and the curve check and fixes every deliverer's entitlement.
    ///         `logs` holds each posted model's packed evaluation log (collective first, then the
    ///         tiers): 3 bytes per test row j = 0..T-1, uint8 predicted label then uint16 running
    ///         count (big-endian). They stay in the transaction input (data availability for
    ///         challenges); only one post commitment is stored (see ModelCommitment).
    function postModels(
        PostedModel calldata collective,
        PostedModel[] calldata tiers,
        address[] calldata undelivered,
        bytes[] calldata logs
    ) external;

    /// @notice The coordinator cancels a round in which fewer than quorum participants delivered
    ///         (Post phase, after the data window). Every participant not named takes back exactly
    ///         b; the named bonds and the coordinator's bond B are burned (`burned()`).
    function cancelBelowQuorum(address[] calldata undelivered) external;

    /// @notice A participant reveals its randomness secret and its delivery key (Reveal phase).
    function reveal(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY) external;

    /// @notice A revealed participant records its rung and takes back its bond and its
    ///         entitlement so far (Claim or Closed phase, no deadline).
    function claim(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY) external;

    /// @notice A deliverer takes any part of its entitlement not yet paid (no deadline).
    function withdrawCompensation() external;

    /// @notice After a coordinator default, a participant takes back its bond plus an equal share
    ///         of the coordinator's bond (no deadline).
    function withdrawAfterDefault() external;

    /// @notice After a cancel, a participant not named undelivered takes back its bond, plus
    ///         floor(B / J) after the coordinator's cancel (no deadline).
    function withdrawAfterCancel() external;

    /// @notice Send the coordinator what is its own once nothing more can be owed (see header).
    function sweep() external;

    /// @notice Anyone proves a posted claim false (issue 14), from the post until the claim
    ///         deadline, once per round. Pays the caller the fraud reward; every deliverer's
    ///         entitlement becomes its allot. Reverts with a named error (PredictionCorrect, ...)
    ///         when the evidence shows no fraud.
    function challenge(Challenge calldata evidence) external;

    /// @notice The coordinator delivers `participant`'s model, encrypted to its delivery key with
    ///         ephemeral key E (revealed participants only, once each, until the delivery deadline,
    ///         a ciphertext of at most MAX_DELIVERY_BYTES bytes).
    function deliver(address account, uint256 ephemeralX, uint256 ephemeralY, bytes calldata ciphertext) external;

    /// @notice A participant proves its delivery wrong: the secret key opens its commitment, (E,
    ///         ciphertext) is its stored delivery, and the plaintext's keccak256 is not the model
    ///         hash of its rung (or E is not a curve point). Until the claim deadline. Pays its
    ///         allot at once; reverts DeliveryCorrect for a correct delivery.
    function disputeDelivery(
        bytes32 dataRoot,
        bytes32 secret,
        uint256 deliverySecretKey,
        uint256 ephemeralX,
        uint256 ephemeralY,
        bytes calldata ciphertext
    ) external;

    /// @notice A revealed participant with a rung above 0 and no delivery, after the delivery
    ///         deadline and until the claim deadline, records the non-delivery and is paid its allot.
    function proveNonDelivery(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY) external;

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    function coordinator() external view returns (address);
    /// @notice The wei the coordinator posted at deployment (B).
    function coordinatorBond() external view returns (uint256);
    /// @notice The coordinator's revealed randomness secret (0 before `revealCoordinator`).
    function coordinatorSecret() external view returns (bytes32);
    function phase() external view returns (Phase);
    function deadlines() external view returns (Deadlines memory);
    /// @notice The last second of the data window (posting and cancelling open after it): 0
    ///         while joining is open and after the post, else MIN_WINDOW after joining closed.
    function dataDeadline() external view returns (uint256);
    function optionCount() external view returns (uint256);
    function option(uint256 optionId) external view returns (Option memory);
    function config() external view returns (Config memory);
    function participant(address account) external view returns (Participant memory);
    /// @notice What is stored under a data root: keccak256(abi.encode(commitment, joiner)) of the
    ///         randomness commitment and the address that joined with it (0 if never joined).
    function commitmentOf(bytes32 dataRoot) external view returns (bytes32);
    function joinedCount() external view returns (uint256);
    /// @notice Joiners not named undelivered (equal to joinedCount before the post or cancel).
    function deliveredCount() external view returns (uint256);
    function revealedCount() external view returns (uint256);
    /// @notice Rows committed by the deliverers (all joiners before the post).
    function totalData() external view returns (uint256);
    function optionJoinCount(uint256 optionId) external view returns (uint256);
    /// @notice Wei held here for ever, claimable by nobody and never swept: bonds of participants
    ///         named undelivered, of deliverers that did not reveal (once the reveal phase is over),
    ///         and B after the coordinator's cancel. balance = owed + sweepable + burned, to the wei.
    function burned() external view returns (uint256);
    /// @notice Always 0: the bonds of deliverers that did not reveal are burned, never shared
    ///         (kept in the ABI for v2 decoders).
    function slashShare() external view returns (uint256);
    function tierCount() external view returns (uint256);
    function tier(uint256 tierIndex) external view returns (PostedModel memory);
    function collectiveModel() external view returns (PostedModel memory);
    /// @notice The model of rung 1..tierCount()+1.
    function rungModel(uint256 rung) external view returns (PostedModel memory);
    /// @notice The rung `account` is (or would be) assigned for randomness secret `secret` (public
    ///         after its reveal; this view does not check it against the commitment, claim does),
    ///         with its accuracy and target.
    function assignment(address account, bytes32 secret)
        external
        view
        returns (uint256 rung, uint256 accuracyWad, uint256 targetAccuracyWad);
    /// @notice The accuracy the committed curve predicts for `dataCount` rows (0 without a curve).
    function predictedAccuracy(uint256 dataCount) external view returns (uint256 accuracyWad);
    /// @notice The curve check's shortfall (WAD) and each deliverer's allot of the coordinator's bond.
    function shortfall() external view returns (uint256 shortfallWad, uint256 allot);
    /// @notice What `account` is owed out of the coordinator's bond in total, and what it was paid.
    function entitlement(address account) external view returns (uint256 owedFromBond, uint256 paid);
    /// @notice What the contract owes `account` as things stand, in wei: its bond before the post;
    ///         after it, a revealer's bond plus any unpaid entitlement; its refund after a
    ///         default or cancel.
    ///         The sum over all accounts plus the coordinator's part never exceeds the balance.
    function owed(address account) external view returns (uint256);
    /// @notice The part of the coordinator's bond that belongs to participants (entitlements).
    function liability() external view returns (uint256);
    function fraudProven() external view returns (bool);
    /// @notice keccak256(abi.encode(ModelCommitment[])) of the post (0 before it).
    function postCommitment() external view returns (bytes32);
    /// @notice keccak256(abi.encode(ephemeralX, ephemeralY, keccak256(ciphertext))) of the
    ///         delivery to `account` (0 if none).
    function deliveryOf(address account) external view returns (bytes32);
    /// @notice The contract whose code checks challenges, decrypts disputed deliveries, pays the
    ///         withdrawals and initializes the round, run in this round's storage by DELEGATECALL
    ///         (the shared ModelpactProofs implementation, an immutable of the round implementation).
    function proofs() external view returns (address);
    function swept() external view returns (bool);
}
