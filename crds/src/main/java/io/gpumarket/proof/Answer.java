package io.gpumarket.proof;

import java.util.List;

/**
 * What an agent answers to a challenge.
 *
 * @param rootHex Merkle root over every row of the product
 * @param rows the rows the sampler selected, in its order
 * @param elapsedMillis how long the prover took, as it reports
 * @param backend cuda or simulated
 */
public record Answer(
    String nonce,
    String gpuNode,
    String rootHex,
    List<RevealedRow> rows,
    long elapsedMillis,
    String backend) {

  /** One revealed row of the product, with the sibling hashes up to the root. */
  public record RevealedRow(int index, int[] values, List<String> path) {}
}
