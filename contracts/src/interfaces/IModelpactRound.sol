// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IModelpactRound
/// @notice One round of collaborative machine learning paid with models: an immutable menu of
///         options (rows of data to contribute, share of the collective model promised), committed
///         datasets and randomness, a budget-checked list of reward models, and pull-based claims.
/// @dev    Phases (each closes at its deadline; `phase()` derives the current one):
///           Join    until `deadlines.join` or capacity: participants join with option, data root,
///                   randomness commitment and bond.
///           Post    after Join, until `deadlines.post`: the coordinator reveals its secret, then
///                   posts the collective model and the reward tiers (budget-checked).
///           Reveal  after models are posted, until `deadlines.reveal`: participants reveal.
///           Claim   after Reveal (or once everyone revealed), until `deadlines.claim`.
///           Closed  after `deadlines.claim`: `sweep()` moves what is left to the coordinator.
///           Aborted the coordinator missed `deadlines.post`: until `deadlines.claim` participants
///                   take back their bond plus an equal share of the coordinator's bond (then Closed).
///         Models are posted BEFORE participants reveal, so the coordinator cannot pick tiers that
///         steer draws it already knows. Each participant's draw depends only on the coordinator's
///         secret and its own, so withholding a reveal changes nobody's outcome but one's own.
///
///         Fixed-point scales (all unsigned integers):
///           WAD = 1e18. `ratioWad`, `accuracyWad` are fractions times 1e18 (<= 1e18).
///           `promisedValueWad` (t) and `budgetValueWad` (t_bar) are model values times 1e18.
///         Hash preimages (abi.encode, not packed):
///           participant commitment = keccak256(abi.encode(bytes32 secret, address participant,
///                                                         address round, uint256 chainid))
///           coordinator commitment = keccak256(abi.encode(bytes32 secret, address coordinator,
///                                                         bytes32 scenarioHash, uint256 chainid))
///           draw seed of participant #index = keccak256(abi.encode(bytes32 coordinatorSecret,
///                                                         bytes32 participantSecret, address round,
///                                                         uint256 index))
///           data root: OpenZeppelin StandardMerkleTree over leaves ("uint256","int256[]") =
///                      (row index, row values), leaf = keccak256(bytes.concat(keccak256(abi.encode(..))))
///         Rungs: rung 0 = no model (accuracy 0), rungs 1..L = posted tiers (strictly ascending,
///         strictly below the collective model), rung L+1 = the collective model.
///         Assignment: target = ratioWad * collectiveAccuracyWad / WAD (floor). With lo <= target
///         <= hi the two neighbouring rungs (lo == hi when a rung sits exactly at the target), the
///         participant gets hi iff uint256(drawSeed) % (hi - lo) < target - lo, so the expected
///         accuracy over the integer probability is exactly the target.
interface IModelpactRound {
    // ------------------------------------------------------------------------------------------
    // Types
    // ------------------------------------------------------------------------------------------

    /// @notice One menu option, fixed at deployment.
    struct Option {
        uint64 dataCount; // rows the participant must contribute (m)
        uint64 ratioWad; // t / t_bar, share of the collective model's value, <= 1e18
        uint128 promisedValueWad; // t, expected value of the model promised, for transparency
        uint128 budgetValueWad; // t_bar, conditional expected value of the collective model
    }

    /// @notice Phase deadlines, unix seconds, strictly increasing.
    struct Deadlines {
        uint64 join;
        uint64 post;
        uint64 reveal;
        uint64 claim;
    }

    /// @notice Everything the coordinator fixes at deployment besides the menu.
    struct Config {
        uint32 capacity; // maximum number of participants (N)
        uint256 participantBond; // wei each participant posts when joining
        bytes32 scenarioHash; // sha256 of the canonical scenario encoding
        bytes32 testSetCommitment; // StandardMerkleTree root of the public test set
        bytes32 coordinatorCommitment; // see the header for the preimage
        Deadlines deadlines;
    }

    /// @notice A point of the committed accuracy curve, used to predict the collective accuracy.
    struct CurveKnot {
        uint64 dataCount;
        uint64 accuracyWad;
    }

    /// @notice A reward model the coordinator can deliver.
    struct Tier {
        bytes32 modelHash; // keccak256 of the model file's bytes
        uint64 accuracyWad; // measured on the committed test set
    }

    /// @notice What the contract remembers of each participant.
    struct Participant {
        uint32 index; // join order, 0-based
        uint8 optionId;
        bool revealed;
        bool claimed; // also set by a default refund
        bytes32 commitment; // randomness commitment; 0 once revealed (kept in the Joined event)
        bytes32 drawSeed; // set at reveal (stored in the commitment's slot: a reveal costs 20k gas less)
    }

    enum Phase {
        Join,
        Post,
        Reveal,
        Claim,
        Closed,
        Aborted
    }

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    /// @dev The menu has no options.
    error EmptyMenu();
    /// @dev The menu has more options than a uint8 option id can name.
    error MenuTooLarge(uint256 optionCount, uint256 maxOptions);
    /// @dev An option promises more than the whole collective model.
    error RatioAboveOne(uint256 optionId, uint256 ratioWad);
    /// @dev Options must be sorted by dataCount, then ratio, non-decreasing.
    error OptionsNotSorted(uint256 optionId);
    /// @dev An option asks for zero rows.
    error ZeroDataCount(uint256 optionId);
    /// @dev Capacity must be at least one participant.
    error ZeroCapacity();
    /// @dev Deadlines must satisfy now < join < post < reveal < claim.
    error DeadlinesInconsistent(uint64 join, uint64 post, uint64 reveal, uint64 claim);
    /// @dev Curve knots must be strictly ascending in dataCount and have accuracy <= 1e18.
    error CurveNotAscending(uint256 knotIndex);
    /// @dev More curve knots than the contract accepts.
    error CurveTooLong(uint256 knotCount, uint256 maxKnots);
    /// @dev The caller is not the coordinator.
    error NotCoordinator(address caller);
    /// @dev The action belongs to another phase.
    error WrongPhase(Phase current, Phase required);
    /// @dev Joining is over: the deadline passed or the round is full.
    error JoinClosed(uint256 timestamp, uint256 deadline, uint256 joined, uint256 capacity);
    /// @dev One entry per address.
    error AlreadyJoined(address participant);
    /// @dev The option id does not exist.
    error UnknownOption(uint256 optionId, uint256 optionCount);
    /// @dev The committed row count must equal the option's dataCount.
    error WrongRowCount(uint256 optionId, uint256 required, uint256 committed);
    /// @dev The bond sent must equal the participant bond.
    error WrongBond(uint256 required, uint256 sent);
    /// @dev A zero data root or randomness commitment.
    error ZeroCommitment();
    /// @dev The coordinator's secret was already revealed.
    error CoordinatorAlreadyRevealed();
    /// @dev The coordinator's secret does not match its commitment.
    error CoordinatorRevealMismatch(bytes32 committed, bytes32 computed);
    /// @dev Models can be posted only after the coordinator revealed.
    error CoordinatorNotRevealed();
    /// @dev Models were already posted.
    error ModelsAlreadyPosted();
    /// @dev More tiers than the contract accepts.
    error TooManyTiers(uint256 tierCount, uint256 maxTiers);
    /// @dev An accuracy above 1e18 or a collective accuracy of zero.
    error AccuracyOutOfRange(uint256 accuracyWad);
    /// @dev The budget constraint: a tier must be strictly worse than the collective model.
    error TierAboveCollective(uint256 tierIndex, uint256 tierAccuracyWad, uint256 collectiveAccuracyWad);
    /// @dev Tiers must be strictly ascending in accuracy, with non-zero accuracy and hash.
    error TiersNotAscending(uint256 tierIndex);
    /// @dev The tier index does not exist.
    error TierOutOfRange(uint256 tierIndex, uint256 tierCount);
    /// @dev The address never joined.
    error NotParticipant(address account);
    /// @dev The participant already revealed.
    error AlreadyRevealed(address participant);
    /// @dev The revealed secret does not match the participant's commitment.
    error RevealMismatch(address participant, bytes32 committed, bytes32 computed);
    /// @dev A participant who did not reveal forfeits bond and reward.
    error NotRevealed(address participant);
    /// @dev Claims and refunds happen once.
    error AlreadyClaimed(address participant);
    /// @dev Sweeping is possible only after the claim deadline (or in an empty round).
    error SweepTooEarly(uint256 timestamp, uint256 opensAt);
    /// @dev An ETH transfer failed.
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
    /// @notice The collective model and the reward tiers were posted and passed the budget check.
    event ModelsPosted(
        bytes32 collectiveModelHash,
        uint256 collectiveAccuracyWad,
        Tier[] tiers,
        uint256 totalData,
        uint256 predictedAccuracyWad
    );
    /// @notice A participant revealed its secret; `drawSeed` decides its assignment.
    event Revealed(address indexed participant, uint256 indexed index, bytes32 secret, bytes32 drawSeed);
    /// @notice A participant claimed: the rung it was assigned and what it was paid back.
    event Claimed(
        address indexed participant,
        uint256 indexed index,
        uint256 optionId,
        uint256 targetAccuracyWad,
        uint256 rung,
        uint256 accuracyWad,
        bytes32 modelHash,
        uint256 bondRefund,
        uint256 slashShare
    );
    /// @notice The coordinator defaulted; a participant took back its bond plus compensation.
    event DefaultRefunded(address indexed participant, uint256 bond, uint256 compensation);
    /// @notice Leftover ETH (unclaimed bonds, forfeited bonds nobody could share, rounding dust,
    ///         the coordinator's bond) went to the coordinator after the round closed.
    event Swept(address indexed to, uint256 amount);

    // ------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------

    /// @notice Join with `optionId`, committing a dataset of `rowCount` rows and a randomness hash.
    /// @dev    msg.value must equal the participant bond.
    function join(uint8 optionId, bytes32 dataRoot, uint64 rowCount, bytes32 commitment) external payable;

    /// @notice The coordinator reveals its randomness secret (Post phase, before posting models).
    function revealCoordinator(bytes32 secret) external;

    /// @notice The coordinator posts the collective model and the reward tiers (Post phase).
    /// @dev    Rejects any tier at or above the collective model: the budget constraint.
    function postModels(bytes32 collectiveModelHash, uint64 collectiveAccuracyWad, Tier[] calldata tiers) external;

    /// @notice A participant reveals its randomness secret (Reveal phase).
    function reveal(bytes32 secret) external;

    /// @notice A revealed participant records its assigned rung and takes back its bond plus an
    ///         equal share of the bonds forfeited by non-revealers (Claim phase).
    function claim() external;

    /// @notice After a coordinator default, a participant takes back its bond plus an equal share of
    ///         the coordinator's bond.
    function withdrawAfterDefault() external;

    /// @notice After the claim deadline (or a join phase nobody joined), send what is left to the
    ///         coordinator.
    function sweep() external;

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    function coordinator() external view returns (address);
    /// @notice The wei the coordinator posted at deployment.
    function coordinatorBond() external view returns (uint256);
    /// @notice The coordinator's revealed randomness secret (0 before `revealCoordinator`).
    function coordinatorSecret() external view returns (bytes32);
    /// @notice Each revealer's equal share of the non-revealers' bonds, paid at claim (floor).
    function slashShare() external view returns (uint256);
    function phase() external view returns (Phase);
    function optionCount() external view returns (uint256);
    function option(uint256 optionId) external view returns (Option memory);
    function config() external view returns (Config memory);
    function participant(address account) external view returns (Participant memory);
    function joinedCount() external view returns (uint256);
    function revealedCount() external view returns (uint256);
    function totalData() external view returns (uint256);
    function optionJoinCount(uint256 optionId) external view returns (uint256);
    function tierCount() external view returns (uint256);
    function tier(uint256 tierIndex) external view returns (Tier memory);
    function collectiveModel() external view returns (Tier memory);
    /// @notice The rung `account` is (or would be) assigned, with its accuracy and target.
    function assignment(address account)
        external
        view
        returns (uint256 rung, uint256 accuracyWad, uint256 targetAccuracyWad);
    /// @notice The accuracy the committed curve predicts for `dataCount` rows (0 without a curve).
    function predictedAccuracy(uint256 dataCount) external view returns (uint256 accuracyWad);
}
