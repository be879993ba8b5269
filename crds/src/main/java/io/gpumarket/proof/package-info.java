/**
 * Proof of compute: the challenge the operator issues and the node agent answers, shared by both as
 * part of the API contract.
 *
 * <p>The agent multiplies two integer matrices derived from the operator's nonce, commits to the
 * result rows with a Merkle root, and reveals the rows that the hash of nonce and root selects,
 * with their Merkle paths. The operator recomputes only those rows: O(n³) work for the prover,
 * O(k·n²) for the verifier. Integer arithmetic makes the result exact on any GPU or CPU.
 */
package io.gpumarket.proof;
