package io.gpumarket.proof;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Prints what a challenge costs the prover (the whole product, CPU path) against the verifier (k
 * rows), for several matrix sizes. A benchmark, not a test: {@code mvn -pl crds test-compile
 * exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.gpumarket.proof.ProofBenchmark}.
 */
public final class ProofBenchmark {
  private ProofBenchmark() {}

  public static void main(String[] args) {
    int samples = 16;
    System.out.printf(
        "%6s %4s %12s %12s %10s %14s%n",
        "n", "k", "prover ms", "verifier ms", "ratio", "prover Gop/s");
    for (int n : new int[] {128, 256, 512, 768, 1024}) {
      Challenge c =
          new Challenge("bench-" + n, "bench", n, samples, Instant.now(), Duration.ofHours(1));
      Prover.answer(c, "simulated", ChallengeMatrices::product); // warm-up
      long p0 = System.nanoTime();
      Answer a = Prover.answer(c, "simulated", ChallengeMatrices::product);
      long prover = System.nanoTime() - p0;
      long v0 = System.nanoTime();
      Verifier.Verdict v = Verifier.verify(c, a, Set.of(), Instant.now());
      long verifier = System.nanoTime() - v0;
      if (!v.passed()) {
        throw new IllegalStateException(v.message());
      }
      System.out.printf(
          "%6d %4d %12.1f %12.2f %10.1f %14.2f%n",
          n,
          samples,
          prover / 1e6,
          verifier / 1e6,
          (double) prover / verifier,
          c.operations() / (prover / 1e9) / 1e9);
    }
  }
}
