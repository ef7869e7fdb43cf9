// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {ProofsFixture} from "./ModelpactRound.proofs.base.t.sol";

/// @dev A participant account that, when paid, re-enters the round through the DELEGATECALL
///      paths (withdrawCompensation and disputeDelivery run in ModelpactProofs) and records
///      the first revert it gets.
contract Reenterer {
    bytes public firstError;
    bool public reentered;

    receive() external payable {
        IModelpactRound r = IModelpactRound(msg.sender);
        try r.withdrawCompensation() {
            reentered = true;
        } catch (bytes memory e) {
            firstError = e;
        }
        try r.sweep() {
            reentered = true;
        } catch {}
    }
}

/// @dev Hostile review A (session 4): attacks on the round, its proofs extension and its
///      libraries. A test named test_attack_* that passes shows the attack FAILS (each was first
///      written asserting its success, then the contract was fixed and the assertion inverted);
///      every attack here is closed (the last open one, attack 4, by the model size bounds).
contract ModelpactRoundReviewATest is ProofsFixture {
    uint256 internal constant SYBILS = 6;
    uint256 internal constant BLOCK_GAS = 30_000_000;

    address internal attacker;
    bytes32[] internal sybilSecrets;

    function _sybilRoot(uint256 k) internal pure returns (bytes32) {
        return keccak256(abi.encode("sybil-data", k));
    }

    function _sybilSecret(uint256 k) internal pure returns (bytes32) {
        return keccak256(abi.encode("sybil-secret", k));
    }

    /// @dev The small round with `SYBILS` extra seats, each joined by a Sybil address whose
    ///      randomness commitment opens for the ATTACKER (actor 2, option 2: it draws between
    ///      rung 2 and the collective model): (s_k, attacker's P, attacker, round, chain). The
    ///      Sybils deliver nothing and are named undelivered by the (honest) coordinator.
    function _sybilRound(bool revealAttacker) internal {
        uint8[] memory ids = new uint8[](2);
        ids[0] = 0;
        ids[1] = 2;
        _deployOver(_smallRows(), ids);
        attacker = actors[1];
        (uint256 px, uint256 py) = _key(attacker);
        address[] memory sybils = new address[](SYBILS);
        for (uint256 k = 0; k < SYBILS; ++k) {
            sybils[k] = makeAddr(string.concat("sybil-", vm.toString(k)));
            vm.deal(sybils[k], BOND);
            bytes32 c = keccak256(abi.encode(_sybilSecret(k), px, py, attacker, address(round), block.chainid));
            vm.prank(sybils[k]);
            round.join{value: BOND}(0, _sybilRoot(k), 50, c);
        }
        delete models;
        _store(_evaluate(_identityModel(), rows));
        _store(_evaluate(_constantModel(3, uint16(FEATURES), 2), rows));
        _store(_evaluate(_constantModel(3, uint16(FEATURES), 1), rows));
        _toPost();
        _revealCoordinator();
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](2);
        bytes[] memory logs = new bytes[](3);
        logs[0] = models[0].log;
        for (uint256 i = 1; i <= 2; ++i) {
            tiers[i - 1] = models[i].posted;
            logs[i] = models[i].log;
        }
        vm.prank(coordinatorAddr);
        round.postModels(models[0].posted, tiers, _sorted(sybils), logs);
        _reveal(actors[0]);
        if (revealAttacker) _reveal(attacker);
    }

    /// @dev A Sybil secret that draws the attacker a different rung than its own secret.
    function _otherRungSecret() internal view returns (uint256 k, uint256 rung) {
        uint256 own = _rungOf(attacker);
        for (k = 0; k < SYBILS; ++k) {
            (rung,,) = round.assignment(attacker, _sybilSecret(k));
            if (rung != own) return (k, rung);
        }
        revert("no Sybil secret draws another rung: change the fixture");
    }

    /// @notice Attack 1 (participant + Sybil seats): the contract does not bind a data root to
    ///         the address that joined with it, only the commitment's preimage to the opener. A
    ///         Sybil that joins with a commitment opening for the attacker gives the attacker a
    ///         second secret: it disputes the honest coordinator's CORRECT delivery with the
    ///         Sybil's root and secret (whose draw names another rung), the delivered model
    ///         "differs" and the attacker takes its allot out of the coordinator's bond.
    ///         Must hold: only the root the attacker joined with opens for it; the dispute reverts.
    function test_attack_sybilCommitmentTurnsACorrectDeliveryIntoAFailedOne() public {
        _sybilRound(true);
        (uint256 k,) = _otherRungSecret();
        uint256 rung = _rungOf(attacker);
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverBytes(attacker, 0xbeef, _modelOfRung(rung));
        uint256 sk = _deliverySk(attacker);
        (uint256 px, uint256 py) = _key(attacker);
        bytes32 stored = round.commitmentOf(_sybilRoot(k));
        bytes32 opened = keccak256(
            abi.encode(
                keccak256(abi.encode(_sybilSecret(k), px, py, attacker, address(round), block.chainid)), attacker
            )
        );
        vm.prank(attacker);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryKeyMismatch.selector, attacker, stored, opened));
        round.disputeDelivery(_sybilRoot(k), _sybilSecret(k), sk, ex, ey, ct);
        assertFalse(round.participant(attacker).deliveryFailed, "the honest delivery stands");
        // Its own root and secret: the delivery is correct, the dispute reverts.
        vm.prank(attacker);
        vm.expectRevert(
            abi.encodeWithSelector(IModelpactRound.DeliveryCorrect.selector, attacker, keccak256(_modelOfRung(rung)))
        );
        round.disputeDelivery(_dataRoot(attacker), _secret(attacker), sk, ex, ey, ct);
    }

    /// @notice Attack 1b: the same Sybil secrets let the attacker pick the best of several draws
    ///         at claim, beating the expected-value rule of its option.
    ///         Must hold: a claim or reveal with a root the caller did not join with reverts.
    function test_attack_sybilCommitmentsLetAClaimPickItsDraw() public {
        _sybilRound(true);
        (uint256 k,) = _otherRungSecret();
        (uint256 px, uint256 py) = _key(attacker);
        vm.warp(_revealDeadline() + 1);
        vm.prank(attacker);
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        round.claim(_sybilRoot(k), _sybilSecret(k), px, py);
        _claim(attacker);
        assertTrue(round.participant(attacker).claimed, "its own claim still works");
    }

    /// @notice Attack 1c: the same Sybil secret at reveal, and at proveNonDelivery (a secret
    ///         drawing a rung when its own draws none would claim an allot for a model never owed).
    ///         Must hold: both revert; only the joined root opens.
    function test_attack_sybilCommitmentOpensNeitherRevealNorNonDeliveryProof() public {
        _sybilRound(false);
        (uint256 px, uint256 py) = _key(attacker);
        vm.prank(attacker);
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        round.reveal(_sybilRoot(0), _sybilSecret(0), px, py);
        _reveal(attacker);
        (uint256 k,) = _otherRungSecret();
        vm.warp(round.deadlines().delivery + 1);
        vm.prank(attacker);
        vm.expectPartialRevert(IModelpactRound.RevealMismatch.selector);
        round.proveNonDelivery(_sybilRoot(k), _sybilSecret(k), px, py);
    }

    /// @notice Attack 2 (coordinator, ciphertext length game): a block's gas bounds what the
    ///         coordinator can deliver and what a participant can dispute, but not alike: deliver
    ///         pays calldata and a log (linear), disputeDelivery pays the same calldata plus the
    ///         decryption's memory (three copies of the ciphertext: quadratic). A 1.5 MB garbage
    ///         delivery fits a 30M-gas block while its dispute does not, and proveNonDelivery is
    ///         refused (a delivery exists): a wrong delivery with impunity. Zero bytes (4 gas of
    ///         calldata each) are what the attacker sends; both calls pay the same calldata.
    ///         Must hold: deliver refuses a ciphertext longer than MAX_DELIVERY_BYTES, and a
    ///         dispute of the longest allowed ciphertext fits a fraction of a block.
    function test_attack_oversizedDeliveryCannotBeDisputedInABlock() public {
        _smallRound();
        address who = actors[3];
        (uint256 px, uint256 py) = _key(who);
        (uint256 ex, uint256 ey,) = _encryptReference(px, py, 0xbeef, hex"00");
        uint256 max = round.MAX_DELIVERY_BYTES();
        vm.prank(coordinatorAddr);
        vm.expectRevert(abi.encodeWithSelector(IModelpactRound.DeliveryTooLong.selector, 1_500_000, max));
        round.deliver{gas: BLOCK_GAS - 21_000 - 4 * 1_500_000}(who, ex, ey, new bytes(1_500_000));
        // The longest allowed garbage delivery is disputed inside a third of a block.
        bytes memory longest = new bytes(max);
        vm.prank(coordinatorAddr);
        round.deliver(who, ex, ey, longest);
        uint256 sk = _deliverySk(who);
        vm.prank(who);
        round.disputeDelivery{gas: BLOCK_GAS / 3 - 21_000 - 4 * max}(_dataRoot(who), _secret(who), sk, ex, ey, longest);
        assertTrue(round.participant(who).deliveryFailed, "the garbage delivery was disputed");
    }

    /// @notice Attack 3 (participant, re-entrancy through the DELEGATECALL extension): a claim
    ///         pays a contract account that re-enters withdrawCompensation and sweep, which run in
    ///         ModelpactProofs' code over the round's storage. HELD: the transient guard slot is
    ///         the round's (DELEGATECALL keeps the round's context), so the inner calls revert
    ///         ReentrancyGuardReentrantCall and the claim pays exactly once.
    function test_attack_reentryThroughTheExtensionIsRefused() public {
        _smallRound();
        address who = actors[3];
        vm.etch(who, type(Reenterer).runtimeCode);
        vm.warp(_revealDeadline() + 1);
        uint256 before = address(round).balance;
        _claim(who);
        assertFalse(Reenterer(payable(who)).reentered(), "no re-entry succeeded");
        assertEq(
            bytes4(Reenterer(payable(who)).firstError()),
            bytes4(keccak256("ReentrancyGuardReentrantCall()")),
            "the extension's guard is the round's"
        );
        assertEq(before - address(round).balance, BOND, "paid its bond once (no compensation owed)");
    }

    /// @notice Attack 4 (coordinator, closed): a model hash may name a well-formed model too large
    ///         to evaluate in a block (a tier padded with never-winning classes, bias int64.min,
    ///         predicts like a small one), so a false log on a rung nobody receives could not be
    ///         challenged. First written asserting (a) on 40,000 classes x 3 features costs more
    ///         than a block (81M gas of prediction); now ModelEval.wellFormed bounds C, F and C * F,
    ///         so that model is malformed and its post is provable fraud of kind (d).
    function test_attack_hugeWellFormedModelMakesWrongPredictionUnprovable() public {
        bytes memory model = _paddedIdentity(40_000);
        assertFalse(eval.wellFormed(model, 3), "40,000 classes: no longer a canonical model");
        assertFalse(eval.wellFormed(_paddedIdentity(257), 3), "MAX_CLASSES + 1: malformed");
        assertTrue(eval.wellFormed(_paddedIdentity(256), 3), "MAX_CLASSES: still canonical");
        // Posted as tier 1 with a false log (a constant model's): proven malformed, kind (d).
        int256[][] memory r = _smallRows();
        Posted[] memory ps = new Posted[](3);
        ps[0] = _evaluate(_identityModel(), r);
        ps[1] = _evaluate(_constantModel(3, uint16(FEATURES), 2), r);
        ps[1].model = model;
        _finish(ps[1], ROWS);
        ps[2] = _evaluate(_constantModel(3, uint16(FEATURES), 1), r);
        _postOver(r, ps);
        IModelpactRound.Challenge memory c = _evidence(IModelpactRound.FraudKind.WrongPrediction, 1, 5);
        address challenger = makeAddr("challenger");
        _challenge(challenger, c);
        assertTrue(round.fraudProven(), "the oversized model is proven malformed (kind d)");
        assertEq(challenger.balance, COORD_BOND / 10, "challenger paid the fraud reward");
    }

    /// @notice The largest well-formed models (C * F = MAX_WEIGHTS at C = MAX_CLASSES, and at F =
    ///         MAX_FEATURES) cost a WrongPrediction challenge (a) at most CHALLENGE_GAS, counting
    ///         the transaction's intrinsic gas at 16 gas for every calldata byte (an upper bound).
    function test_attack_largestWellFormedModelChallengeFitsABlock() public {
        _assertChallengeFits(256, 128);
        _assertChallengeFits(32, 1024);
    }

    uint256 internal constant CHALLENGE_GAS = 10_000_000;

    function _assertChallengeFits(uint256 classes, uint256 features) internal {
        int256[][] memory r = new int256[][](ROWS);
        for (uint256 j = 0; j < ROWS; ++j) {
            r[j] = new int256[](features + 1);
            for (uint256 f = 0; f < features; ++f) {
                r[j][f] = -int256(type(int64).max) + int256(j + f); // wide nonzero values
            }
            r[j][features] = int256(j % 2);
        }
        // Three distinct models at the bound; true predictions, counts chosen so that the
        // accuracies ascend (tier 1 < tier 2 < collective); tier 1's last prediction is false.
        Posted[] memory ps = new Posted[](3);
        uint256[3] memory finalCount = [ROWS, 2, 4];
        for (uint256 i = 0; i < 3; ++i) {
            bytes memory big = _denseModel(classes, features, i);
            assertTrue(eval.wellFormed(big, features), "at the bound: canonical");
            assertLe(big.length, round.MAX_DELIVERY_BYTES(), "and deliverable");
            ps[i] = _evaluate(big, r);
            for (uint256 j = 0; j < ROWS; ++j) {
                ps[i].counts[j] = j + 1 < finalCount[i] ? j + 1 : finalCount[i];
            }
        }
        ps[1].predicted[ROWS - 1] = (ps[1].predicted[ROWS - 1] + 1) % classes; // a false log
        for (uint256 i = 0; i < 3; ++i) {
            _finish(ps[i], ROWS);
        }
        _postOver(r, ps);
        IModelpactRound.Challenge memory c = _evidence(IModelpactRound.FraudKind.WrongPrediction, 1, ROWS - 1);
        uint256 calldataBytes = abi.encodeCall(IModelpactRound.challenge, (c)).length;
        address challenger = makeAddr("challenger");
        vm.prank(challenger);
        uint256 start = gasleft();
        round.challenge(c);
        uint256 used = start - gasleft() + 21_000 + 16 * calldataBytes;
        assertTrue(round.fraudProven(), "the false log is proven");
        emit log_named_uint("classes", classes);
        emit log_named_uint("features", features);
        emit log_named_uint("model bytes", c.model.length);
        emit log_named_uint("challenge calldata bytes", calldataBytes);
        emit log_named_uint("challenge gas (upper bound)", used);
        assertLt(used, CHALLENGE_GAS, "worst-case (a) fits in a third of a 30M block");
    }

    /// @dev A round over rows `r` with models `ps` posted and every actor revealed.
    function _postOver(int256[][] memory r, Posted[] memory ps) internal {
        uint8[] memory ids = new uint8[](4);
        for (uint256 i = 0; i < 4; ++i) {
            ids[i] = uint8(i);
        }
        _deployOver(r, ids);
        delete models;
        for (uint256 i = 0; i < ps.length; ++i) {
            _store(ps[i]);
        }
        _postStored();
        for (uint256 i = 0; i < actors.length; ++i) {
            _reveal(actors[i]);
        }
    }

    /// @dev Canonical bytes (MPIM, v1, C, F = 3, scale 0): class c < 3 has weight 1 on feature c
    ///      (the identity model), every other class bias int64.min (it never wins).
    function _paddedIdentity(uint256 classes) internal pure returns (bytes memory model) {
        model = new bytes(10 + classes * (8 + 2 * 3));
        bytes memory header = abi.encodePacked(bytes4("MPIM"), uint8(1), uint16(classes), uint16(3), uint8(0));
        for (uint256 i = 0; i < 10; ++i) {
            model[i] = header[i];
        }
        for (uint256 c = 3; c < classes; ++c) {
            model[10 + 8 * c] = 0x80;
        }
        for (uint256 c = 0; c < 3; ++c) {
            model[10 + 8 * classes + 6 * c + 2 * c + 1] = 0x01;
        }
    }

    /// @dev A well-formed C x F model with every byte of biases and weights nonzero.
    function _denseModel(uint256 classes, uint256 features, uint256 salt) internal pure returns (bytes memory model) {
        model = new bytes(10 + classes * (8 + 2 * features));
        bytes memory header = abi.encodePacked(bytes4("MPIM"), uint8(1), uint16(classes), uint16(features), uint8(0));
        for (uint256 i = 0; i < model.length; ++i) {
            model[i] = i < 10 ? header[i] : bytes1(uint8(1 + (i * 7 + salt) % 251));
        }
    }
}
