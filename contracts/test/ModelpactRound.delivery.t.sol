// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {ProofsFixture} from "./ModelpactRound.proofs.base.t.sol";

/// @notice Issue 15: chain delivery (encrypted to the participant's key), every dispute outcome
///         (wrong model, garbage ciphertext, a lower rung's model, an invalid ephemeral key,
///         nothing delivered, a correct delivery, a wrong secret key) and the money they move.
///         Actors: #0 option 0 (ratio 0: rung 0), #1..#3 options 1..3 (rungs above 0).
contract ModelpactRoundDeliveryTest is ProofsFixture {
    event Delivered(address indexed participant, uint256 ephemeralX, uint256 ephemeralY, bytes ciphertext);
    event DeliveryFailed(address indexed participant, IModelpactRound.DeliveryFailure reason, uint256 entitlement);

    uint256 internal constant E = 0x1234567;

    function setUp() public override {
        super.setUp();
        _smallRound();
    }

    function _allot() internal view returns (uint256 allot) {
        (, allot) = round.shortfall();
    }

    function _deliverOwn(address who) internal returns (uint256 ex, uint256 ey, bytes memory ct) {
        return _deliverBytes(who, E, _modelOfRung(_rungOf(who)));
    }

    function _expectFailed(address who, IModelpactRound.DeliveryFailure reason) internal {
        vm.expectEmit(true, true, true, true, address(round));
        emit DeliveryFailed(who, reason, _allot());
    }

    function _assertCompensated(address who, uint256 before) internal view {
        assertEq(who.balance - before, _allot(), "allot paid at once");
        assertTrue(round.participant(who).deliveryFailed, "failure recorded");
        (uint256 owedFromBond, uint256 paid) = round.entitlement(who);
        assertEq(owedFromBond, _allot());
        assertEq(paid, _allot());
    }

    // --------------------------------------------------------------------- deliver

    function test_deliver_storesOneHashAndEmitsTheCiphertext() public {
        address who = actors[3];
        (uint256 px, uint256 py) = _key(who);
        (uint256 ex, uint256 ey, bytes memory ct) = _encryptReference(px, py, E, _modelOfRung(_rungOf(who)));
        vm.expectEmit(true, true, true, true, address(round));
        emit Delivered(who, ex, ey, ct);
        vm.prank(coordinatorAddr);
        round.deliver(who, ex, ey, ct);
        assertEq(round.deliveryOf(who), keccak256(abi.encode(ex, ey, keccak256(ct))));
        // The participant decrypts it to its model.
        assertEq(keccak256(cipher.decrypt(_deliverySk(who), ex, ey, ct)), round.rungModel(_rungOf(who)).modelHash);
    }

    function test_deliver_refusals() public {
        address who = actors[2];
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotCoordinator.selector, who));
        round.deliver(who, 1, 2, hex"00");
        address stranger = makeAddr("stranger");
        vm.prank(coordinatorAddr);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotRevealed.selector, stranger));
        round.deliver(stranger, 1, 2, hex"00");
        _deliverOwn(who);
        vm.prank(coordinatorAddr);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.AlreadyDelivered.selector, who));
        round.deliver(who, 1, 2, hex"00");
        uint256 deadline = round.deadlines().delivery;
        vm.warp(deadline + 1);
        vm.prank(coordinatorAddr);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryClosed.selector, deadline + 1, deadline));
        round.deliver(actors[3], 1, 2, hex"00");
    }

    function test_deliver_refusesAnUnrevealedParticipant() public {
        uint8[] memory ids = new uint8[](2);
        ids[0] = 3;
        ids[1] = 3;
        _deployOver(_smallRows(), ids);
        _postStored();
        _reveal(actors[0]);
        vm.prank(coordinatorAddr);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotRevealed.selector, actors[1]));
        round.deliver(actors[1], 1, 2, hex"00");
    }

    // --------------------------------------------------------------------- disputes

    /// A correct delivery cannot be disputed.
    function test_dispute_ofACorrectDeliveryReverts() public {
        address who = actors[2];
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverOwn(who);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.DeliveryCorrect.selector, who, round.rungModel(_rungOf(who)).modelHash
            )
        );
        _dispute(who, _deliverySk(who), ex, ey, ct);
    }

    /// The coordinator delivers a lower rung's model: disputed, allot paid at once.
    function test_dispute_aLowerRungsModelIsCompensated() public {
        address who = actors[3]; // ratio 1: the collective model
        assertEq(_rungOf(who), 3);
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverBytes(who, E, _modelOfRung(1));
        uint256 before = who.balance;
        uint256 liability = round.liability();
        _expectFailed(who, IModelpactRound.DeliveryFailure.WrongModel);
        _dispute(who, _deliverySk(who), ex, ey, ct);
        _assertCompensated(who, before);
        assertEq(round.liability(), liability + _allot());
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryAlreadyFailed.selector, who));
        _dispute(who, _deliverySk(who), ex, ey, ct);
    }

    function test_dispute_garbageCiphertextIsCompensated() public {
        address who = actors[1];
        bytes memory garbage = new bytes(1370);
        garbage[7] = 0x42;
        vm.prank(coordinatorAddr);
        round.deliver(who, 1, 2, garbage); // E = G, a valid point: decrypts to noise
        uint256 before = who.balance;
        _expectFailed(who, IModelpactRound.DeliveryFailure.WrongModel);
        _dispute(who, _deliverySk(who), 1, 2, garbage);
        _assertCompensated(who, before);
    }

    /// An ephemeral key off the curve cannot be decrypted by anyone: a failed delivery, not an
    /// out-of-gas precompile call.
    function test_dispute_anInvalidEphemeralKeyIsCompensated() public {
        address who = actors[2];
        bytes memory ct = _modelOfRung(_rungOf(who));
        vm.prank(coordinatorAddr);
        round.deliver(who, 1, 3, ct);
        uint256 before = who.balance;
        _dispute(who, _deliverySk(who), 1, 3, ct);
        _assertCompensated(who, before);
    }

    function test_dispute_refusesAWrongSecretKeyOrAnotherDelivery() public {
        address who = actors[2];
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverBytes(who, E, _modelOfRung(1));
        uint256 otherSk = _deliverySk(actors[3]);
        (uint256 ox, uint256 oy) = _key(actors[3]);
        bytes32 committed = round.commitmentOf(_dataRoot(who));
        bytes32 opened = _stored(keccak256(abi.encode(_secret(who), ox, oy, who, address(round), block.chainid)), who);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryKeyMismatch.selector, who, committed, opened));
        _dispute(who, otherSk, ex, ey, ct);
        vm.expectRevert(IModelpactRound.InvalidSecretKey.selector);
        _dispute(who, 0, ex, ey, ct);
        bytes memory other = bytes.concat(ct, hex"00");
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.DeliveryNotStored.selector,
                who,
                round.deliveryOf(who),
                keccak256(abi.encode(ex, ey, keccak256(other)))
            )
        );
        _dispute(who, _deliverySk(who), ex, ey, other);
        // Nothing stored at all for another participant.
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelpactRound.DeliveryNotStored.selector,
                actors[1],
                bytes32(0),
                keccak256(abi.encode(ex, ey, keccak256(ct)))
            )
        );
        _dispute(actors[1], _deliverySk(actors[1]), ex, ey, ct);
    }

    /// Rung 0 is owed no model: neither a dispute nor a non-delivery proof pays anything.
    function test_rungZeroIsOwedNothing() public {
        address who = actors[0];
        assertEq(_rungOf(who), 0);
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverBytes(who, E, hex"0102");
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NoModelOwed.selector, who));
        _dispute(who, _deliverySk(who), ex, ey, ct);
        // A second rung-0 round without delivery.
        uint8[] memory ids = new uint8[](1);
        _deployOver(_smallRows(), ids);
        _postStored();
        _reveal(actors[0]);
        vm.warp(round.deadlines().delivery + 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NoModelOwed.selector, actors[0]));
        _proveNonDelivery(actors[0]);
    }

    // --------------------------------------------------------------------- non-delivery

    function test_proveNonDelivery_afterTheDeadlineIsCompensated() public {
        address who = actors[1];
        uint256 deadline = round.deadlines().delivery;
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryWindowOpen.selector, block.timestamp, deadline));
        _proveNonDelivery(who);
        vm.warp(deadline + 1);
        uint256 before = who.balance;
        _expectFailed(who, IModelpactRound.DeliveryFailure.NotDelivered);
        _proveNonDelivery(who);
        _assertCompensated(who, before);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryAlreadyFailed.selector, who));
        _proveNonDelivery(who);
    }

    function test_proveNonDelivery_refusals() public {
        address who = actors[2];
        _deliverOwn(who);
        vm.warp(round.deadlines().delivery + 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryExists.selector, who));
        _proveNonDelivery(who);
        // A wrong key (or secret) does not open the commitment.
        address other = actors[3];
        (uint256 x, uint256 y) = _key(who);
        bytes32 committed = round.commitmentOf(_dataRoot(other));
        bytes32 computed =
            _stored(keccak256(abi.encode(_secret(other), x, y, other, address(round), block.chainid)), other);
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.RevealMismatch.selector, other, committed, computed));
        round.proveNonDelivery(_dataRoot(other), _secret(other), x, y);
        // Not revealed / not a participant.
        vm.prank(makeAddr("stranger"));
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.NotRevealed.selector, makeAddr("stranger")));
        round.proveNonDelivery(bytes32(0), bytes32(0), 0, 0);
        uint256 closes = _claimDeadline();
        vm.warp(closes + 1);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.ProofWindowClosed.selector, closes + 1, closes));
        _proveNonDelivery(other);
    }

    // --------------------------------------------------------------------- money

    /// Failed deliveries raise the liability the sweep leaves; claims pay the rest; everything
    /// reconciles to the wei.
    function test_failedDeliveriesReconcileWithClaimsAndSweep() public {
        address a = actors[1];
        address b = actors[3];
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverBytes(b, E, _modelOfRung(2));
        _dispute(b, _deliverySk(b), ex, ey, ct);
        vm.warp(round.deadlines().delivery + 1);
        _proveNonDelivery(a);
        assertEq(round.liability(), 2 * _allot());
        for (uint256 i = 0; i < actors.length; ++i) {
            uint256 before = actors[i].balance;
            _claim(actors[i]);
            assertEq(actors[i].balance - before, BOND, "bond back; allots were paid at the dispute");
        }
        vm.warp(_claimDeadline() + 1);
        uint256 c0 = coordinatorAddr.balance;
        round.sweep();
        assertEq(coordinatorAddr.balance - c0, COORD_BOND - 2 * _allot());
        assertEq(address(round).balance, 0);
    }

    /// Fuzzed honest deliveries (any ephemeral secret, any participant with a model) can never be
    /// disputed successfully.
    function testFuzz_honestDeliveryCannotBeDisputed(uint256 e, uint8 pick) public {
        e = bound(e, 1, BN128_N - 1);
        address who = actors[1 + pick % 3];
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverBytes(who, e, _modelOfRung(_rungOf(who)));
        vm.prank(who);
        try round.disputeDelivery(_dataRoot(who), _secret(who), _deliverySk(who), ex, ey, ct) {
            fail();
        } catch (bytes memory err) {
            assertEq(bytes4(err), IModelpactRound.DeliveryCorrect.selector);
        }
        assertFalse(round.participant(who).deliveryFailed);
    }

    /// Money rule, fuzzed over the coordinator bond, which deliveries fail and whether fraud is
    /// proven: every participant gets bond + its entitlement, the challenger the reward, the
    /// coordinator the rest, and at most the allot's rounding dust (< d wei) stays behind.
    function testFuzz_moneyReconcilesWithFraudAndFailedDeliveries(uint96 bond, uint8 failMask, bool fraud) public {
        proofsBond = bound(bond, 1e6, 1e24);
        uint8[] memory ids = new uint8[](4);
        for (uint256 i = 0; i < 4; ++i) {
            ids[i] = uint8(i);
        }
        _deployOver(_smallRows(), ids);
        delete models;
        _store(_evaluate(_identityModel(), rows));
        _store(_evaluate(_constantModel(3, uint16(FEATURES), 2), rows));
        _store(_evaluate(_constantModel(3, uint16(FEATURES), 1), rows));
        if (fraud) models[0].posted.accuracyWad = uint64(WAD);
        _postStored();
        uint256[] memory start = new uint256[](4);
        for (uint256 i = 0; i < 4; ++i) {
            start[i] = actors[i].balance;
            _reveal(actors[i]);
        }
        uint256 allot = _allot();
        address challenger = makeAddr("money-challenger");
        if (fraud) {
            vm.prank(challenger);
            round.challenge(_evidence(IModelpactRound.FraudKind.WrongAccuracy, 3, ROWS - 1));
        }
        vm.warp(round.deadlines().delivery + 1);
        for (uint256 i = 1; i < 4; ++i) {
            if (failMask & (1 << i) != 0) _proveNonDelivery(actors[i]);
        }
        for (uint256 i = 0; i < 4; ++i) {
            _claim(actors[i]);
            bool failed = fraud || (i > 0 && failMask & (1 << i) != 0);
            // balance after = start - bond (join) + bond (claim) + allot if failed: start was
            // measured after joining.
            assertEq(actors[i].balance - start[i], BOND + (failed ? allot : 0), "participant");
        }
        vm.warp(_claimDeadline() + 1);
        uint256 c0 = coordinatorAddr.balance;
        round.sweep();
        uint256 swept = coordinatorAddr.balance - c0;
        uint256 paidOut = swept + challenger.balance;
        for (uint256 i = 0; i < 4; ++i) {
            if (fraud || (i > 0 && failMask & (1 << i) != 0)) paidOut += allot;
        }
        assertLe(paidOut, proofsBond, "never more than B out of B");
        assertEq(address(round).balance, proofsBond - paidOut, "the rest stays");
        assertLt(address(round).balance, 4, "only the allot's rounding dust stays");
    }
}
