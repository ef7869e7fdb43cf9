// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "./IModelpactRound.sol";

/// @title IModelpactFactory
/// @notice Creates modelpact rounds (issue 17): each round is a clone, with immutable args, of one
///         shared ModelpactRound implementation, initialized in the same transaction. A round
///         costs the clone's 589 bytes of code and its own storage instead of a full deployment.
/// @dev    The clone's runtime code is OpenZeppelin's (Clones.cloneWithImmutableArgs):
///           0x363d3d373d3d3d363d73 <implementation, 20 bytes> 0x5af43d82803e903d91602b57fd5bf3 <args>
///         with args = abi.encode(address factory, address coordinator, uint256 coordinatorBond,
///         IModelpactRound.Config config) (17 words, 544 bytes). The round reads its configuration
///         from these args; `initialize` accepts only the factory named in them, and only if that
///         caller runs this factory's code.
interface IModelpactFactory {
    /// @dev The implementation given to the constructor has no code (a round would forward every
    ///      call to nothing).
    ///      Fix: deploy ModelpactProofs, then ModelpactRound(proofs), then the factory with it.
    error ImplementationHasNoCode(address implementation);

    /// @notice The factory was deployed for this round implementation.
    event FactoryDeployed(address indexed implementation);
    /// @notice A round was created and initialized: `coordinator` (the caller of createRound)
    ///         posted msg.value as its bond; the round's RoundPublished event has the menu,
    ///         configuration and curve.
    event RoundCreated(address indexed round, address indexed coordinator, bytes32 scenarioHash);

    /// @notice The ModelpactRound implementation every round of this factory is a clone of.
    function implementation() external view returns (address);

    /// @notice Creates a round with the caller as its coordinator and msg.value as its coordinator
    ///         bond, initialized with `menu` and `curve`: one transaction, and the same checks and
    ///         errors as deploying a round had (EmptyMenu, ScheduleInconsistent, BondTooLarge, ...).
    /// @param  menu   options sorted by (dataCount, ratioWad) (see IModelpactRound.initialize).
    /// @param  config capacity, quorum, bonds, commitments, test rows, curve tolerance, shortfall
    ///                price and schedule (now < join < post; windows >= MIN_WINDOW).
    /// @param  curve  committed accuracy curve, strictly ascending in dataCount (may be empty).
    /// @return round  the new round's address (also in RoundCreated).
    function createRound(
        IModelpactRound.Option[] calldata menu,
        IModelpactRound.Config calldata config,
        IModelpactRound.CurveKnot[] calldata curve
    ) external payable returns (address round);
}
