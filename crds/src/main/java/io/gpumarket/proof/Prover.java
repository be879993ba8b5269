package io.gpumarket.proof;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Answers a challenge given a way to multiply: the node agent passes its CUDA product on a GPU, or
 * {@link ChallengeMatrices#product()} on the CPU when it simulates one.
 */
public final class Prover {
  private Prover() {}

  public static Answer answer(
      Challenge challenge, String backend, Function<ChallengeMatrices, int[]> multiply) {
    long started = System.nanoTime();
    ChallengeMatrices m = ChallengeMatrices.derive(challenge.nonce(), challenge.size());
    int[] product = multiply.apply(m);
    Merkle tree = Merkle.ofRows(product, m.size());
    String root = tree.rootHex();
    List<Answer.RevealedRow> rows = new ArrayList<>();
    for (int i : RowSampler.indices(challenge.nonce(), root, m.size(), challenge.samples())) {
      int[] row = new int[m.size()];
      System.arraycopy(product, i * m.size(), row, 0, m.size());
      rows.add(new Answer.RevealedRow(i, row, tree.path(i)));
    }
    long elapsed = (System.nanoTime() - started) / 1_000_000;
    return new Answer(challenge.nonce(), challenge.gpuNode(), root, rows, elapsed, backend);
  }
}
