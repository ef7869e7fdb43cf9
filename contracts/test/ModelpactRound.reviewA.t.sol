// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {ProofsFixture} from "./ModelpactRound.proofs.base.t.sol";

/// @dev Hostile review A (session 4): attacks on the round, its proofs extension and its
///      libraries. A test named test_attack_* that passes shows the attack FAILS (each was first
///      written asserting its success, then the contract was fixed and the assertion inverted);
///      a skipped one documents an open hole (see its comment).
contract ModelpactRoundReviewATest is ProofsFixture {
    uint256 internal constant SYBILS = 6;

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
    function _sybilRound() internal {
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
        for (uint256 i = 0; i < actors.length; ++i) {
            _reveal(actors[i]);
        }
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
        _sybilRound();
        (uint256 k,) = _otherRungSecret();
        uint256 rung = _rungOf(attacker);
        (uint256 ex, uint256 ey, bytes memory ct) = _deliverBytes(attacker, 0xbeef, _modelOfRung(rung));
        uint256 sk = _deliverySk(attacker);
        (, uint256 allot) = round.shortfall();
        uint256 before = attacker.balance;
        vm.prank(attacker);
        round.disputeDelivery(_sybilRoot(k), _sybilSecret(k), sk, ex, ey, ct);
        assertTrue(round.participant(attacker).deliveryFailed, "ATTACK: correct delivery marked failed");
        assertEq(attacker.balance - before, allot, "ATTACK: the attacker took its allot from B");
    }

    /// @notice Attack 1b: the same Sybil secrets let the attacker pick the best of several draws
    ///         at claim (and at reveal), beating the expected-value rule of its option.
    ///         Must hold: a claim or reveal with a root the caller did not join with reverts.
    function test_attack_sybilCommitmentsLetAClaimPickItsDraw() public {
        _sybilRound();
        (uint256 k,) = _otherRungSecret();
        (uint256 px, uint256 py) = _key(attacker);
        vm.warp(_revealDeadline() + 1);
        (uint256 rung,,) = round.assignment(attacker, _sybilSecret(k));
        vm.prank(attacker);
        round.claim(_sybilRoot(k), _sybilSecret(k), px, py);
        assertTrue(round.participant(attacker).claimed, "ATTACK: claimed with a Sybil's secret");
        assertTrue(rung != _rungOf(attacker), "ATTACK: with a rung its own secret does not draw");
    }
}
