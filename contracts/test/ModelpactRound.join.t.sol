// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture} from "./ModelpactRound.base.t.sol";

contract ModelpactRoundJoinTest is RoundFixture {
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

    function test_join_recordsEntryCountsAndBond() public {
        address a = _actor(1);
        address b = _actor(2);
        _join(a, 2);
        _join(b, 0);
        IModelpactRound.Participant memory p = round.participant(b);
        assertEq(p.index, 1);
        assertEq(p.optionId, 0);
        assertFalse(p.revealed);
        assertFalse(p.claimed);
        assertFalse(p.undelivered);
        assertEq(p.paidFromBond, 0);
        assertEq(round.commitmentOf(_dataRoot(b)), _stored(_commitment(b), b), "commitment keyed by data root");
        assertEq(round.joinedCount(), 2);
        assertEq(round.deliveredCount(), 2, "every joiner counts as a deliverer until the post");
        assertEq(round.totalData(), 500);
        assertEq(round.optionJoinCount(0), 1);
        assertEq(round.optionJoinCount(1), 0);
        assertEq(round.optionJoinCount(2), 1);
        assertEq(address(round).balance, COORD_BOND + 2 * BOND);
        assertEq(round.owed(a), BOND);
    }

    function test_join_emitsJoinedWithDataRoot() public {
        address a = _actor(1);
        vm.expectEmit(true, true, false, true, address(round));
        emit Joined(a, 0, 1, _dataRoot(a), 200, _commitment(a), BOND, 200);
        _join(a, 1);
    }

    function test_join_revertsAfterDeadline() public {
        address a = _actor(1);
        vm.warp(joinAt + 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.JoinClosed.selector, joinAt + 1, joinAt, 0, 5));
        vm.prank(a);
        round.join{value: BOND}(0, _dataRoot(a), 100, _commitment(a));
    }

    function test_join_acceptsAtTheDeadlineSecond() public {
        address a = _actor(1);
        vm.warp(joinAt);
        _join(a, 0);
        assertEq(round.joinedCount(), 1);
    }

    function test_join_revertsWhenFull() public {
        _joinMany(5);
        address a = _actor(99);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.JoinClosed.selector, block.timestamp, joinAt, 5, 5));
        vm.prank(a);
        round.join{value: BOND}(0, _dataRoot(a), 100, _commitment(a));
        _phaseIs(IModelpactRound.Phase.Post);
    }

    function test_join_revertsOnSecondEntry() public {
        address a = _actor(1);
        _join(a, 0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyJoined.selector, a));
        vm.prank(a);
        round.join{value: BOND}(1, keccak256("other root"), 200, _commitment(a));
    }

    function test_join_revertsOnUnknownOption() public {
        address a = _actor(1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.UnknownOption.selector, 3, 3));
        vm.prank(a);
        round.join{value: BOND}(3, _dataRoot(a), 100, _commitment(a));
    }

    function test_join_revertsOnWrongRowCount() public {
        address a = _actor(1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.WrongRowCount.selector, 1, 200, 199));
        vm.prank(a);
        round.join{value: BOND}(1, _dataRoot(a), 199, _commitment(a));
    }

    function test_join_revertsOnWrongBond() public {
        address a = _actor(1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.WrongBond.selector, BOND, BOND - 1));
        vm.prank(a);
        round.join{value: BOND - 1}(0, _dataRoot(a), 100, _commitment(a));
    }

    function test_join_revertsOnZeroDataRoot() public {
        address a = _actor(1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ZeroCommitment.selector));
        vm.prank(a);
        round.join{value: BOND}(0, bytes32(0), 100, _commitment(a));
    }

    function test_join_revertsOnZeroCommitment() public {
        address a = _actor(1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ZeroCommitment.selector));
        vm.prank(a);
        round.join{value: BOND}(0, _dataRoot(a), 100, bytes32(0));
    }

    /// Issue 11.6: a second join with a data root already committed is refused on chain.
    function test_join_refusesDuplicateDataRoot() public {
        address a = _actor(1);
        address copier = _actor(2);
        _join(a, 0);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DuplicateDataRoot.selector, _dataRoot(a)));
        vm.prank(copier);
        round.join{value: BOND}(0, _dataRoot(a), 100, _commitment(copier));
        assertEq(round.joinedCount(), 1);
        assertEq(
            round.commitmentOf(_dataRoot(a)), _stored(_commitment(a), a), "the first commitment is never overwritten"
        );
    }

    /// A copier who joins with a copied commitment under its own root cannot open it: the
    /// preimage binds the original participant's address.
    function test_join_copiedCommitmentIsUseless() public {
        address a = _actor(1);
        address b = _actor(2);
        _join(a, 0);
        vm.prank(b);
        round.join{value: BOND}(0, _dataRoot(b), 100, _commitment(a));
        _toPost();
        _revealCoordinator();
        _post();
        (uint256 x, uint256 y) = _key(a);
        bytes32 computed = _stored(keccak256(abi.encode(_secret(a), x, y, b, address(round), block.chainid)), b);
        vm.expectRevert(
            abi.encodeWithSelector(IModelpactRound.RevealMismatch.selector, b, _stored(_commitment(a), b), computed)
        );
        vm.prank(b);
        round.reveal(_dataRoot(b), _secret(a), x, y);
    }
}
