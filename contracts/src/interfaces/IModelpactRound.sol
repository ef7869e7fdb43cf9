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
///                     participants, and the curve check runs.
///           Aborted   the coordinator missed `postDeadline` with >= Q joiners. Final.
///           Reveal    from posting until the reveal deadline, or until every deliverer revealed.
///           Claim     after Reveal, until the claim deadline (challenges and disputes end with it).
///           Closed    after the claim deadline. Final. Claims and withdrawals still work.
///         WINDOWS. `joinDeadline` and `postDeadline` are absolute unix seconds. The rest are
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
///           claim (revealed)  b + slashShare + (entitlement - paidFromBond),
///                             slashShare = floor((d - r) * b / r): deliverers who did not reveal
///                             forfeit their bonds to the revealers. With r == 0 those bonds stay
///                             in the contract for ever (burned).
///           undelivered       a participant the coordinator names undelivered forfeits its bond,
///                             which is BURNED (stays in the contract for ever), not shared. A
///                             delivery is the coordinator's word and the coordinator may hold
///                             participant accounts of its own: if undelivered bonds went to the
///                             deliverers, naming honest participants undelivered would pay their
///                             bonds to its own accounts. Burned, a false exclusion profits no one
///                             (contract-v2.md section 4 said "to the revealing deliverers"; this
///                             is a deliberate change, found by the adversarial review).
///           Aborted           each joiner: b + floor(B / J).
///           Cancelled         each deliverer: b, to the wei (undelivered bonds are burned, as
///                             above); the coordinator sweeps B at once.
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
///                             at once when Aborted (B - J * floor(B / J)) or Cancelled (B).
///         CURVE COMPENSATION (issue 13). The committed curve predicts the collective accuracy for
///         the rows actually delivered; shortfall = max(0, predicted - tau - measured). A
///         participant promised ratio_i of the collective model's value is paid ratio_i x
///         shortfall x rho wei, rho = (valuation scale in value units per 1.0 accuracy) x (wei per
///         value unit), capped by its allot: the coordinator pays back in money every value unit it
///         over-promised beyond the stated tolerance, so an inflated curve buys no data for free,
///         while an honest curve costs nothing in expectation beyond the rare tail outside tau.
///         The cap means a bond B covers a collective shortfall of at most
///         allot * 1e36 / (ratio_max * rho) WAD for the largest ratio.
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
        Claim
    }

    /// @notice How a posted claim was proven false (issue 14).
    enum FraudKind {
        None,
        WrongPrediction, // a logged prediction differs from the model's output on that row
        BrokenCount, // a running count does not follow from the previous leaf
        WrongAccuracy, // the final count does not give the posted accuracy
        MalformedModel // the bytes under a posted hash are not a well-formed model
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
    /// @dev A window measured from the post is shorter than MIN_WINDOW.
    ///      Fix: make every window measured from the post at least MIN_WINDOW seconds long.
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
    /// @dev The revealed secret does not match the participant's commitment.
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
    event RoundCancelled(uint256 joined, uint256 delivered, uint256 quorum);
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
    /// @notice The round was cancelled; a deliverer took back its bond.
    event CancelRefunded(address indexed participant, uint256 bond);
    /// @notice A posted claim was proven false: the coordinator's bond now belongs to participants.
    event FraudProven(FraudKind kind, uint256 rung, uint256 row, address indexed challenger, uint256 reward);
    /// @notice A participant's model delivery failed; its entitlement is now its allot.
    event DeliveryFailed(address indexed participant, DeliveryFailure reason, uint256 entitlement);
    /// @notice The coordinator's part of its bond went back to it; `liability` stays for participants.
    event Swept(address indexed to, uint256 amount, uint256 liability);

    // ------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------

    /// @notice Join with `optionId`, committing a dataset of `rowCount` rows and a randomness hash.
    /// @dev    msg.value must equal the participant bond; the data root must be new to the round.
    function join(uint8 optionId, bytes32 dataRoot, uint64 rowCount, bytes32 commitment) external payable;

    /// @notice The coordinator reveals its randomness secret (Post phase, before posting models).
    function revealCoordinator(bytes32 secret) external;

    /// @notice The coordinator posts the collective model and the reward tiers, naming the joined
    ///         participants whose data did not arrive (strictly ascending addresses). Runs the
    ///         budget check and the curve check and fixes every deliverer's entitlement.
    function postModels(PostedModel calldata collective, PostedModel[] calldata tiers, address[] calldata undelivered)
        external;

    /// @notice The coordinator cancels a round in which fewer than quorum participants delivered
    ///         (Post phase); deliverers take back their bonds, the undelivered bonds are burned.
    function cancelBelowQuorum(address[] calldata undelivered) external;

    /// @notice A participant reveals its randomness secret and its delivery key (Reveal phase).
    function reveal(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY) external;

    /// @notice A revealed participant records its rung and takes back its bond, its share of the
    ///         forfeited bonds and its entitlement so far (Claim or Closed phase, no deadline).
    function claim(bytes32 dataRoot, bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY) external;

    /// @notice A deliverer takes any part of its entitlement not yet paid (no deadline).
    function withdrawCompensation() external;

    /// @notice After a coordinator default, a participant takes back its bond plus an equal share
    ///         of the coordinator's bond (no deadline).
    function withdrawAfterDefault() external;

    /// @notice After a cancel, a deliverer takes back its bond (no deadline).
    function withdrawAfterCancel() external;

    /// @notice Send the coordinator what is its own once nothing more can be owed (see header).
    function sweep() external;

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
    function optionCount() external view returns (uint256);
    function option(uint256 optionId) external view returns (Option memory);
    function config() external view returns (Config memory);
    function participant(address account) external view returns (Participant memory);
    /// @notice The randomness commitment stored under a data root (0 if the root was never joined).
    function commitmentOf(bytes32 dataRoot) external view returns (bytes32);
    function joinedCount() external view returns (uint256);
    /// @notice Joiners not named undelivered (equal to joinedCount before the post or cancel).
    function deliveredCount() external view returns (uint256);
    function revealedCount() external view returns (uint256);
    /// @notice Rows committed by the deliverers (all joiners before the post).
    function totalData() external view returns (uint256);
    function optionJoinCount(uint256 optionId) external view returns (uint256);
    /// @notice Each revealer's equal share of the bonds of deliverers that did not reveal, paid at
    ///         claim (floor; undelivered participants' bonds are burned, not shared).
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
    ///         after it, a revealer's bond and forfeit share (the share only shrinks if more
    ///         deliverers reveal) plus any unpaid entitlement; its refund after a default or cancel.
    ///         The sum over all accounts plus the coordinator's part never exceeds the balance.
    function owed(address account) external view returns (uint256);
    /// @notice The part of the coordinator's bond that belongs to participants (entitlements).
    function liability() external view returns (uint256);
    function fraudProven() external view returns (bool);
    function swept() external view returns (bool);
}
