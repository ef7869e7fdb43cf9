// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {console} from "forge-std/console.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ModelpactFactory} from "../src/ModelpactFactory.sol";
import {ModelpactRound} from "../src/ModelpactRound.sol";
import {IModelpactFactory} from "../src/interfaces/IModelpactFactory.sol";
import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture, RoundHarness} from "./ModelpactRound.base.t.sol";

/// @dev Creates clones of an implementation with any args, as anyone could, and calls
///      `initialize` on them as itself (a contract that is not a ModelpactFactory).
contract CloneMaker {
    function make(address implementation, bytes memory args) external returns (address) {
        return Clones.cloneWithImmutableArgs(implementation, args);
    }

    function initialize(address round, IModelpactRound.Option[] memory menu, IModelpactRound.CurveKnot[] memory curve)
        external
        payable
    {
        IModelpactRound(round).initialize{value: msg.value}(menu, curve);
    }
}

/// @notice Issue 17: rounds are clones of shared implementations, created by ModelpactFactory.
///         What must hold: the clone's code is exactly OpenZeppelin's proxy + implementation +
///         args; only the args' factory, running ModelpactFactory's code, initializes a round, and
///         only once, with the bond the args name; the implementations themselves can be neither
///         initialized nor made to move funds; every runtime fits EIP-170.
contract ModelpactFactoryTest is RoundFixture {
    event FactoryDeployed(address indexed implementation);
    event RoundCreated(address indexed round, address indexed coordinator, bytes32 scenarioHash);

    uint256 internal constant EIP170 = 24_576;

    CloneMaker internal maker;

    function setUp() public override {
        super.setUp();
        maker = new CloneMaker();
    }

    function _args(address factory_, address coordinator_, uint256 bond, IModelpactRound.Config memory cfg)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encode(factory_, coordinator_, bond, cfg);
    }

    // --------------------------------------------------------------------- createRound

    /// createRound clones the factory's implementation (CREATE from the factory), emits
    /// RoundCreated with the caller as coordinator, and the round names the shared proofs.
    function test_createRound_emitsRoundCreatedForTheCallersClone() public {
        address expected = vm.computeCreateAddress(address(factory), vm.getNonce(address(factory)));
        vm.expectEmit(true, true, false, true, address(factory));
        emit RoundCreated(expected, coordinatorAddr, SCENARIO);
        RoundHarness r = _deploy(_menu(), _config(5), _curve());
        assertEq(address(r), expected);
        assertEq(factory.implementation(), harnessImpl);
        assertEq(r.proofs(), proofsImpl);
        assertEq(r.coordinator(), coordinatorAddr);
        assertEq(r.coordinatorBond(), COORD_BOND);
        assertEq(address(r).balance, COORD_BOND);
        assertEq(address(factory).balance, 0, "the factory keeps nothing");
    }

    /// The clone's runtime code is exactly OpenZeppelin's proxy, the implementation and the args
    /// abi.encode(factory, coordinator, bond, config): 45 + 544 = 589 bytes.
    function test_clone_runtimeCodeIsTheProxyTheImplementationAndTheArgs() public view {
        bytes memory expected = bytes.concat(
            hex"363d3d373d3d3d363d73",
            bytes20(harnessImpl),
            hex"5af43d82803e903d91602b57fd5bf3",
            _args(address(factory), coordinatorAddr, COORD_BOND, _config(5))
        );
        assertEq(address(round).code, expected);
        assertEq(address(round).code.length, 589);
        assertEq(Clones.fetchCloneArgs(address(round)).length, 544);
    }

    function test_factory_emitsFactoryDeployedAndRefusesAnImplementationWithoutCode() public {
        vm.expectEmit(true, false, false, true);
        emit FactoryDeployed(harnessImpl);
        _create("ModelpactFactory.sol:ModelpactFactory", abi.encode(harnessImpl), 0);
        address nothing = makeAddr("no code");
        vm.expectRevert(abi.encodeWithSelector(IModelpactFactory.ImplementationHasNoCode.selector, nothing));
        _create("ModelpactFactory.sol:ModelpactFactory", abi.encode(nothing), 0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactFactory.ImplementationHasNoCode.selector, nothing));
        _create("ModelpactRound.sol:ModelpactRound", abi.encode(nothing), 0);
    }

    // --------------------------------------------------------------------- initialize

    /// A created round cannot be initialized again, not even by its own factory.
    function test_initialize_onlyOnce() public {
        vm.deal(address(factory), COORD_BOND);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyInitialized.selector));
        vm.prank(address(factory));
        round.initialize{value: COORD_BOND}(_menu(), _curve());
    }

    /// Only the args' factory: the coordinator (or anyone) calling initialize is refused.
    function test_initialize_refusesAnyoneButTheFactory() public {
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotFactory.selector, coordinatorAddr, address(factory)));
        vm.prank(coordinatorAddr);
        round.initialize{value: COORD_BOND}(_menu(), _curve());
    }

    /// A clone of the same implementation created by anyone else cannot be initialized: not by
    /// its creator when its args name the genuine factory, and not when its args name the creator
    /// as the factory (its code is not ModelpactFactory's). It stays visibly empty: no options.
    function test_initialize_refusesClonesCreatedByAnyoneElse() public {
        IModelpactRound.Config memory cfg = _config(5);
        address naming = maker.make(harnessImpl, _args(address(factory), address(maker), COORD_BOND, cfg));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotFactory.selector, address(maker), address(factory)));
        maker.initialize{value: COORD_BOND}(naming, _menu(), _curve());

        address own = maker.make(harnessImpl, _args(address(maker), address(maker), COORD_BOND, cfg));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotFactory.selector, address(maker), address(maker)));
        maker.initialize{value: COORD_BOND}(own, _menu(), _curve());

        // A second genuine factory of the same implementation is not the factory the args name.
        ModelpactFactory other =
            ModelpactFactory(_create("ModelpactFactory.sol:ModelpactFactory", abi.encode(harnessImpl), 0));
        vm.deal(address(other), COORD_BOND);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotFactory.selector, address(other), address(factory)));
        vm.prank(address(other));
        IModelpactRound(naming).initialize{value: COORD_BOND}(_menu(), _curve());

        assertEq(IModelpactRound(naming).optionCount(), 0, "visibly empty");
        assertEq(IModelpactRound(own).optionCount(), 0, "visibly empty");
        assertEq(naming.balance + own.balance, 0);
    }

    /// The bond sent must be the args' coordinator bond (createRound always sends it; the check
    /// is reached here by calling as the factory).
    function test_initialize_refusesAValueOtherThanTheBond() public {
        address c = maker.make(harnessImpl, _args(address(factory), coordinatorAddr, COORD_BOND, _config(5)));
        vm.deal(address(factory), 2 * COORD_BOND);
        vm.expectRevert(
            abi.encodeWithSelector(IModelpactRound.CoordinatorBondMismatch.selector, COORD_BOND, COORD_BOND - 1)
        );
        vm.prank(address(factory));
        IModelpactRound(c).initialize{value: COORD_BOND - 1}(_menu(), _curve());
        // With the bond, as the factory: the same checks as createRound, and the round is set up.
        vm.prank(address(factory));
        IModelpactRound(c).initialize{value: COORD_BOND}(_menu(), _curve());
        assertEq(IModelpactRound(c).optionCount(), 3);
    }

    // --------------------------------------------------------------------- implementations

    /// Neither implementation can be initialized (NotAClone), and no call on either moves funds
    /// (even wei forced into them stays); both are visibly empty.
    function test_implementations_cannotBeInitializedOrMoveFunds() public {
        address realImpl = _create("ModelpactRound.sol:ModelpactRound", abi.encode(proofsImpl), 0);
        address[3] memory impls = [realImpl, harnessImpl, proofsImpl];
        vm.deal(address(factory), 10 * COORD_BOND);
        for (uint256 k = 0; k < impls.length; ++k) {
            address impl = impls[k];
            vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotAClone.selector, impl));
            vm.prank(address(factory));
            IModelpactRound(impl).initialize{value: COORD_BOND}(_menu(), _curve());
            vm.deal(impl, 1 ether);
            _expectNoFundsMove(impl);
            assertEq(impl.balance, 1 ether, "forced wei stays");
        }
        assertEq(IModelpactRound(realImpl).optionCount(), 0);
        assertEq(ModelpactRound(realImpl).proofs(), proofsImpl);
    }

    /// Every call that pays out (and join, the other payable one) reverts on `impl`.
    function _expectNoFundsMove(address impl) internal {
        address caller = _actor(7);
        (uint256 x, uint256 y) = _key(caller);
        IModelpactRound.Challenge memory ev;
        ev.kind = IModelpactRound.FraudKind.WrongPrediction;
        ev.rung = 1;
        bytes[10] memory calls = [
            abi.encodeCall(IModelpactRound.join, (0, _dataRoot(caller), 100, _commitmentFor(round, caller))),
            abi.encodeCall(IModelpactRound.claim, (_dataRoot(caller), _secret(caller), x, y)),
            abi.encodeCall(IModelpactRound.withdrawCompensation, ()),
            abi.encodeCall(IModelpactRound.withdrawAfterDefault, ()),
            abi.encodeCall(IModelpactRound.withdrawAfterCancel, ()),
            abi.encodeCall(IModelpactRound.sweep, ()),
            abi.encodeCall(IModelpactRound.challenge, (ev)),
            abi.encodeCall(IModelpactRound.disputeDelivery, (_dataRoot(caller), _secret(caller), 1, 1, 2, "")),
            abi.encodeCall(IModelpactRound.proveNonDelivery, (_dataRoot(caller), _secret(caller), x, y)),
            abi.encodeCall(IModelpactRound.cancelBelowQuorum, (new address[](0)))
        ];
        for (uint256 i = 0; i < calls.length; ++i) {
            for (uint256 w = 0; w < 2; ++w) {
                // Now, and once every deadline an implementation could read is long past.
                if (w == 1) vm.warp(block.timestamp + 3650 days);
                vm.prank(caller);
                (bool ok,) = impl.call{value: i == 0 ? BOND : 0}(calls[i]);
                assertFalse(ok, string.concat("call ", vm.toString(i), " on an implementation"));
            }
            vm.warp(1_700_000_000);
        }
    }

    // --------------------------------------------------------------------- sizes

    /// Every runtime that is deployed fits EIP-170 (24,576 bytes): printed for the report (the
    /// test-only RoundHarness implementation does not, and need not: forge does not enforce it).
    function test_runtimeSizes_fitEip170() public {
        address realImpl = _create("ModelpactRound.sol:ModelpactRound", abi.encode(proofsImpl), 0);
        console.log("runtime bytes: ModelpactRound", realImpl.code.length);
        console.log("runtime bytes: ModelpactProofs", proofsImpl.code.length);
        console.log("runtime bytes: ModelpactFactory", address(factory).code.length);
        console.log("runtime bytes: a round (clone)", address(round).code.length);
        assertLe(realImpl.code.length, EIP170);
        assertLe(proofsImpl.code.length, EIP170);
        assertLe(address(factory).code.length, EIP170);
        assertEq(address(round).code.length, 589);
    }
}
