// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelpactRound} from "../src/interfaces/IModelpactRound.sol";
import {RoundFixture, RoundHarness} from "./ModelpactRound.base.t.sol";
import {ModelEvalFixture} from "./ModelEval.base.t.sol";
import {CipherFixture} from "./DeliveryCipher.base.t.sol";

/// @dev A round with REAL models, a real test set and real evaluation logs, for challenges
///      (issue 14) and deliveries (issue 15). Everything is built here exactly as the Python side
///      does it: canonical model bytes (MPIM/1), the test-set tree (OpenZeppelin
///      StandardMerkleTree leaves, sorted-pair nodes), positional log trees and packed logs.
///
///      The small set: T = 6 rows of 3 features, 3 classes, labels [0, 0, 0, 1, 1, 2]; the last
///      row's features point at class 1. Models (rung: accuracy):
///        rung 1  always class 2            1 / 6
///        rung 2  always class 1            2 / 6
///        rung 3  identity weights (collective)  5 / 6 (wrong only on the last row)
///      The menu adds a ratio-0 option (always rung 0) in front of the fixture's three.
abstract contract ProofsFixture is RoundFixture, ModelEvalFixture, CipherFixture {
    uint256 internal constant ROWS = 6;
    uint256 internal constant FEATURES = 3;

    struct Posted {
        bytes model;
        uint256[] predicted;
        uint256[] counts;
        bytes log;
        bytes32[][] levels;
        IModelpactRound.PostedModel posted;
    }

    int256[][] internal rows;
    bytes32[][] internal testLevels; // sorted-pair tree over the row leaves, bottom level first
    /// @dev Index 0 = collective model, i = tier rung i (the post commitment's order).
    Posted[] internal models;
    address[] internal actors;
    /// @dev The coordinator bond `_deployOver` posts (fuzz tests vary it).
    uint256 internal proofsBond = COORD_BOND;

    function setUp() public virtual override(RoundFixture, ModelEvalFixture, CipherFixture) {
        RoundFixture.setUp();
        ModelEvalFixture.setUp();
        CipherFixture.setUp();
    }

    // --------------------------------------------------------------------- test set

    function _smallRows() internal pure returns (int256[][] memory r) {
        r = new int256[][](ROWS);
        uint8[6] memory labels = [0, 0, 0, 1, 1, 2];
        for (uint256 j = 0; j < ROWS; ++j) {
            r[j] = new int256[](FEATURES + 1);
            uint256 hot = j == ROWS - 1 ? 1 : labels[j]; // the last row misleads the collective model
            r[j][hot] = 10 + int256(j);
            r[j][FEATURES] = int256(uint256(labels[j]));
        }
    }

    function _rowLeaf(uint256 j, int256[] memory values) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(j, values))));
    }

    function _hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @dev A sorted-pair tree (what OpenZeppelin's MerkleProof verifies): an odd node at the end
    ///      of a level is carried up unchanged.
    function _buildTestTree(int256[][] memory r) internal {
        delete testLevels;
        bytes32[] memory level = new bytes32[](r.length);
        for (uint256 j = 0; j < r.length; ++j) {
            level[j] = _rowLeaf(j, r[j]);
        }
        testLevels.push(level);
        while (level.length > 1) {
            bytes32[] memory up = new bytes32[]((level.length + 1) / 2);
            for (uint256 k = 0; k < up.length; ++k) {
                up[k] = 2 * k + 1 < level.length ? _hashPair(level[2 * k], level[2 * k + 1]) : level[2 * k];
            }
            testLevels.push(up);
            level = up;
        }
    }

    function _testRoot() internal view returns (bytes32) {
        return testLevels[testLevels.length - 1][0];
    }

    function _testProof(uint256 j) internal view returns (bytes32[] memory proof) {
        bytes32[] memory tmp = new bytes32[](testLevels.length);
        uint256 n = 0;
        uint256 i = j;
        for (uint256 l = 0; l + 1 < testLevels.length; ++l) {
            uint256 sib = i ^ 1;
            if (sib < testLevels[l].length) tmp[n++] = testLevels[l][sib];
            i >>= 1;
        }
        proof = new bytes32[](n);
        for (uint256 k = 0; k < n; ++k) {
            proof[k] = tmp[k];
        }
    }

    // --------------------------------------------------------------------- models and logs

    /// @dev A model predicting class `k` everywhere (bias 1 on k, all weights 0).
    function _constantModel(uint16 classes, uint16 features, uint256 k) internal pure returns (bytes memory) {
        int64[] memory b = new int64[](classes);
        b[k] = 1;
        return _encode(b, new int16[](uint256(classes) * features), features, 0);
    }

    /// @dev The identity model: score[c] = x[c].
    function _identityModel() internal pure returns (bytes memory) {
        int16[] memory w = new int16[](3 * FEATURES);
        for (uint256 c = 0; c < 3; ++c) {
            w[c * FEATURES + c] = 1;
        }
        return _encode(new int64[](3), w, uint16(FEATURES), 0);
    }

    /// @dev The honest log of `model` over `r`, its tree and its posted entry.
    function _evaluate(bytes memory model, int256[][] memory r) internal view returns (Posted memory p) {
        p.model = model;
        p.predicted = new uint256[](r.length);
        p.counts = new uint256[](r.length);
        uint256 count = 0;
        for (uint256 j = 0; j < r.length; ++j) {
            uint256 label = eval.predictRow(model, r[j]);
            int256 truth = r[j][r[j].length - 1];
            if (truth >= 0 && uint256(truth) == label) ++count;
            p.predicted[j] = label;
            p.counts[j] = count;
        }
        _finish(p, r.length);
    }

    /// @dev Packed log, tree and posted entry from `p.predicted` and `p.counts`.
    function _finish(Posted memory p, uint256 t) internal pure {
        p.log = _pack(p.predicted, p.counts);
        p.levels = _levels(p.predicted, p.counts);
        p.posted = IModelpactRound.PostedModel(keccak256(p.model), uint64(p.counts[t - 1] * WAD / t), _root(p.levels));
    }

    function _pack(uint256[] memory predicted, uint256[] memory counts) internal pure returns (bytes memory out) {
        out = new bytes(3 * predicted.length);
        for (uint256 j = 0; j < predicted.length; ++j) {
            out[3 * j] = bytes1(uint8(predicted[j]));
            out[3 * j + 1] = bytes1(uint8(counts[j] >> 8));
            out[3 * j + 2] = bytes1(uint8(counts[j]));
        }
    }

    function _store(Posted memory p) internal {
        models.push();
        Posted storage s = models[models.length - 1];
        s.model = p.model;
        s.predicted = p.predicted;
        s.counts = p.counts;
        s.log = p.log;
        for (uint256 i = 0; i < p.levels.length; ++i) {
            s.levels.push(p.levels[i]);
        }
        s.posted = p.posted;
    }

    // --------------------------------------------------------------------- the round

    function _proofsMenu() internal pure returns (IModelpactRound.Option[] memory menu) {
        menu = new IModelpactRound.Option[](4);
        menu[0] = IModelpactRound.Option(50, 0, 0, 80e18);
        menu[1] = IModelpactRound.Option(100, 25e16, 20e18, 80e18);
        menu[2] = IModelpactRound.Option(200, 6e17, 48e18, 80e18);
        menu[3] = IModelpactRound.Option(400, 1e18, 80e18, 80e18);
    }

    /// @dev Deploys a round over `r` (T = r.length), joins one actor per option of `optionIds`.
    function _deployOver(int256[][] memory r, uint8[] memory optionIds) internal {
        delete rows;
        for (uint256 j = 0; j < r.length; ++j) {
            rows.push(r[j]);
        }
        _buildTestTree(r);
        vm.warp(1_700_000_000);
        IModelpactRound.Config memory cfg = _config(8);
        cfg.testRowCount = uint64(r.length);
        cfg.testSetCommitment = _testRoot();
        vm.deal(coordinatorAddr, proofsBond);
        vm.prank(coordinatorAddr);
        round = _newHarness(proofsBond, _proofsMenu(), cfg, _curve());
        delete actors;
        for (uint256 i = 0; i < optionIds.length; ++i) {
            address a = _actor(100 + i);
            actors.push(a);
            uint64 count = round.option(optionIds[i]).dataCount;
            vm.prank(a);
            round.join{value: BOND}(optionIds[i], _dataRoot(a), count, _commitment(a));
        }
    }

    /// @dev The small round: four actors (options 0..3), the three models above, posted and
    ///      every actor revealed.
    function _smallRound() internal {
        uint8[] memory ids = new uint8[](4);
        for (uint256 i = 0; i < 4; ++i) {
            ids[i] = uint8(i);
        }
        _deployOver(_smallRows(), ids);
        delete models;
        _store(_evaluate(_identityModel(), rows));
        _store(_evaluate(_constantModel(3, uint16(FEATURES), 2), rows));
        _store(_evaluate(_constantModel(3, uint16(FEATURES), 1), rows));
        _postStored();
        for (uint256 i = 0; i < actors.length; ++i) {
            _reveal(actors[i]);
        }
    }

    function _postStored() internal {
        _toPost();
        _revealCoordinator();
        uint256 n = models.length - 1;
        IModelpactRound.PostedModel[] memory tiers = new IModelpactRound.PostedModel[](n);
        bytes[] memory logs = new bytes[](n + 1);
        logs[0] = models[0].log;
        for (uint256 i = 1; i <= n; ++i) {
            tiers[i - 1] = models[i].posted;
            logs[i] = models[i].log;
        }
        vm.prank(coordinatorAddr);
        round.postModels(models[0].posted, tiers, new address[](0), logs);
    }

    /// @dev The post commitment's preimage, as a challenger rebuilds it.
    function _postedList() internal view returns (IModelpactRound.ModelCommitment[] memory list) {
        list = new IModelpactRound.ModelCommitment[](models.length);
        for (uint256 i = 0; i < models.length; ++i) {
            IModelpactRound.PostedModel memory m = models[i].posted;
            list[i] = IModelpactRound.ModelCommitment(m.modelHash, m.accuracyWad, m.logRoot, keccak256(models[i].log));
        }
    }

    /// @dev Position of rung `rung` in `models` (the collective model is rung L + 1, at 0).
    function _at(uint256 rung) internal view returns (uint256) {
        return rung % models.length;
    }

    function _leaf(uint256 rung, uint256 j) internal view returns (IModelpactRound.LogLeaf memory) {
        Posted storage p = models[_at(rung)];
        bytes32[][] memory levels = new bytes32[][](p.levels.length);
        for (uint256 i = 0; i < levels.length; ++i) {
            levels[i] = p.levels[i];
        }
        return IModelpactRound.LogLeaf(p.predicted[j], p.counts[j], _proof(levels, j));
    }

    /// @dev Complete honest evidence about row j of rung `rung` (every kind's fields filled).
    function _evidence(IModelpactRound.FraudKind kind, uint256 rung, uint256 j)
        internal
        view
        returns (IModelpactRound.Challenge memory c)
    {
        c.kind = kind;
        c.rung = rung;
        c.posted = _postedList();
        c.model = models[_at(rung)].model;
        c.row = j;
        c.testRow = rows[j];
        c.testProof = _testProof(j);
        c.leaf = _leaf(rung, j);
        if (j > 0) c.previous = _leaf(rung, j - 1);
        c.log = models[_at(rung)].log;
    }

    function _challenge(address who, IModelpactRound.Challenge memory c) internal {
        vm.prank(who);
        round.challenge(c);
    }

    // --------------------------------------------------------------------- delivery

    function _deliverySk(address who) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("delivery-key", who))) % BN128_N;
    }

    function _rungOf(address who) internal view returns (uint256 rung) {
        (rung,,) = round.assignment(who, _secret(who));
    }

    /// @dev The model bytes of rung `rung` (1..L+1).
    function _modelOfRung(uint256 rung) internal view returns (bytes memory) {
        return models[_at(rung)].model;
    }

    /// @dev Encrypts `plaintext` to `who`'s delivery key with ephemeral secret `e` and delivers it.
    function _deliverBytes(address who, uint256 e, bytes memory plaintext)
        internal
        returns (uint256 ex, uint256 ey, bytes memory ct)
    {
        (uint256 px, uint256 py) = _key(who);
        (ex, ey, ct) = _encryptReference(px, py, e, plaintext);
        vm.prank(coordinatorAddr);
        round.deliver(who, ex, ey, ct);
    }

    function _dispute(address who, uint256 sk, uint256 ex, uint256 ey, bytes memory ct) internal {
        vm.prank(who);
        round.disputeDelivery(_dataRoot(who), _secret(who), sk, ex, ey, ct);
    }

    function _proveNonDelivery(address who) internal {
        (uint256 x, uint256 y) = _key(who);
        vm.prank(who);
        round.proveNonDelivery(_dataRoot(who), _secret(who), x, y);
    }
}
