// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title EvalLog
/// @notice Leaves and positional Merkle proofs of a model's evaluation log: for test rows
///         j = 0..T-1, leaf j = (uint256 j, uint256 predictedLabel, uint256 runningCorrect).
///         Mirrored by `modelpact.encoding` (section "Evaluation logs"); golden vectors in
///         contracts/test/vectors/models.json are checked on both sides.
/// @dev    Preimages:
///           leaf(j)  = keccak256(bytes.concat(keccak256(abi.encode(j, predicted, count))))
///           node     = keccak256(abi.encodePacked(left, right))   (ordered, NOT sorted)
///           depth    = ceil(log2 T) (0 for T = 1); positions T .. 2**depth - 1 hold bytes32(0)
///           proof    = the `depth` siblings from the leaf up; at level i the node is the left
///                      child iff bit i of j is 0.
///         This verification is written by hand on purpose: OpenZeppelin's `MerkleProof` hashes
///         each pair in sorted order, so a proof does not bind a leaf to its position, and a
///         coordinator could then present one leaf at two positions or leave a row out. Here the
///         path bits are the bits of j and the proof length is fixed by T, so each position
///         j < T opens to exactly one leaf, and that leaf also carries j itself.
///         Residual trust: a root whose leaves are never published (or are not valid leaves)
///         cannot be opened, so nothing in it can be challenged; off chain, the audit and
///         `modelpact.ml.evallog.check_eval_log` report such a log.
library EvalLog {
    /// @notice The hash of leaf (index, predicted, count).
    function leafHash(uint256 index, uint256 predicted, uint256 count) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, predicted, count))));
    }

    /// @notice ceil(log2 rowCount): the length of every proof in a log of `rowCount` rows.
    function depth(uint256 rowCount) internal pure returns (uint256 d) {
        while (d < 256 && (uint256(1) << d) < rowCount) ++d;
    }

    /// @notice Whether leaf (index, predicted, count) sits at position `index` of the log with
    ///         `root` over `rowCount` rows. False for index >= rowCount or a proof whose length is
    ///         not `depth(rowCount)`; never reverts.
    function verifyLeaf(
        bytes32[] calldata proof,
        bytes32 root,
        uint256 rowCount,
        uint256 index,
        uint256 predicted,
        uint256 count
    ) internal pure returns (bool) {
        return verify(proof, root, rowCount, index, leafHash(index, predicted, count));
    }

    /// @notice Whether `leaf` (a hash) sits at position `index` of the log with `root` over
    ///         `rowCount` rows (see `verifyLeaf`).
    function verify(bytes32[] calldata proof, bytes32 root, uint256 rowCount, uint256 index, bytes32 leaf)
        internal
        pure
        returns (bool)
    {
        if (index >= rowCount || proof.length != depth(rowCount)) return false;
        bytes32 node = leaf;
        for (uint256 i = 0; i < proof.length; ++i) {
            node = (index >> i) & 1 == 0 ? _node(node, proof[i]) : _node(proof[i], node);
        }
        return node == root;
    }

    function _node(bytes32 left, bytes32 right) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(left, right));
    }
}
