// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IModelpactFactory} from "./interfaces/IModelpactFactory.sol";
import {IModelpactRound} from "./interfaces/IModelpactRound.sol";

/// @title ModelpactFactory
/// @notice Creates each modelpact round as a clone with immutable args of one shared
///         ModelpactRound implementation and initializes it in the same call (issue 17: a round
///         used to be a full deployment of 11.2M gas; a clone costs well under 1M).
/// @dev    Anyone may deploy a factory for any implementation: nothing in it is per-round, and a
///         round's code and args say which factory and implementation it came from (the audit and
///         the wallet's guard check both against the build). The implementation is kept in
///         STORAGE, not in an immutable, so that this contract's runtime code is one fixed
///         artifact: ModelpactRound.initialize refuses any caller whose code hash is not this
///         code's, so a clone of the round implementation that this code did not create can never
///         be initialized.
contract ModelpactFactory is IModelpactFactory {
    /// @dev Set once by the constructor (see the header for why not an immutable).
    address private _implementation;

    /// @param roundImplementation the shared ModelpactRound implementation (must have code).
    constructor(address roundImplementation) {
        if (roundImplementation.code.length == 0) revert ImplementationHasNoCode(roundImplementation);
        _implementation = roundImplementation;
        emit FactoryDeployed(roundImplementation);
    }

    /// @inheritdoc IModelpactFactory
    function implementation() external view override returns (address) {
        return _implementation;
    }

    /// @inheritdoc IModelpactFactory
    function createRound(
        IModelpactRound.Option[] calldata menu,
        IModelpactRound.Config calldata config,
        IModelpactRound.CurveKnot[] calldata curve
    ) external payable override returns (address round) {
        // The bond is passed at initialize (which checks it against the args), not at creation.
        round = Clones.cloneWithImmutableArgs(_implementation, abi.encode(address(this), msg.sender, msg.value, config));
        // Emitted before the call (checks-effects-interactions); a revert in initialize undoes both.
        emit RoundCreated(round, msg.sender, config.scenarioHash);
        IModelpactRound(round).initialize{value: msg.value}(menu, curve);
    }
}
