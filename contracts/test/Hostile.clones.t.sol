// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ModelpactFactory} from "../src/ModelpactFactory.sol";
import {IModelpactFactory} from "../src/interfaces/IModelpactFactory.sol";
import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";
import {CloneMaker} from "./ModelpactFactory.t.sol";

/// @notice Hostile review of rounds as clones (issue 17): what the contracts alone let a hostile
///         coordinator or third party do, for the off-chain chain of trust to catch.
contract HostileClonesTest is RoundFixture {
    CloneMaker internal maker;

    function setUp() public override {
        super.setUp();
        maker = new CloneMaker();
    }

    /// The proofs implementation has no immutables, so its `initialize` checks only that the
    /// caller is the args' factory: a clone of ModelpactPROOFS (not of the round) is initialized
    /// by anyone who names itself as the factory, with any bond, and emits a genuine-looking
    /// RoundPublished; a ModelpactFactory (genuine code) over the proofs implementation creates
    /// such clones too. Nothing but the off-chain link (b) (the clone's implementation must be
    /// the build's ModelpactRound) tells these apart from rounds: pinned here as a fact the
    /// guard and the audit rely on.
    function test_aCloneOfTheProofsImplementationIsInitializedByAnyone() public {
        IModelpactRound.Config memory cfg = _config(5);
        address c = maker.make(proofsImpl, abi.encode(address(maker), address(maker), uint256(0), cfg));
        maker.initialize(c, _menu(), _curve());
        (bool ok, bytes memory out) = c.staticcall(abi.encodeCall(IModelpactRound.optionCount, ()));
        assertFalse(ok && out.length == 32 && abi.decode(out, (uint256)) == 3, "no round views");

        ModelpactFactory overProofs =
            ModelpactFactory(_create("ModelpactFactory.sol:ModelpactFactory", abi.encode(proofsImpl), 0));
        vm.deal(coordinatorAddr, COORD_BOND);
        vm.prank(coordinatorAddr);
        address made = overProofs.createRound{value: COORD_BOND}(_menu(), cfg, _curve());
        assertEq(made.balance, COORD_BOND);
        assertEq(IModelpactFactory(address(overProofs)).implementation(), proofsImpl);
    }

    /// createRound with a Config word out of its field's range (capacity above uint32, as raw
    /// calldata) is refused: the args the round reads are always in range (the getters'
    /// truncating casts never truncate), as the old constructor's ABI decoding refused it.
    function test_createRound_refusesDirtyConfigWords() public {
        IModelpactRound.Config memory cfg = _config(5);
        bytes memory data = abi.encodeCall(ModelpactFactory.createRound, (_menu(), cfg, _curve()));
        // selector (4) + two offsets (menu, curve come first and last; Config is static, inline)
        // Layout: menu offset (word 0), Config (words 1..14), curve offset (word 15).
        uint256 capacityAt = 4 + 32;
        assertEq(uint256(bytes32(_slice(data, capacityAt))), 5, "capacity word located");
        data[capacityAt + 27] = 0x01; // capacity + 2^32
        vm.deal(coordinatorAddr, COORD_BOND);
        vm.prank(coordinatorAddr);
        (bool ok,) = address(factory).call{value: COORD_BOND}(data);
        assertFalse(ok, "a capacity word above uint32 is refused");
    }

    function _slice(bytes memory data, uint256 at) internal pure returns (bytes32 word) {
        assembly ("memory-safe") {
            word := mload(add(add(data, 0x20), at))
        }
    }
}
