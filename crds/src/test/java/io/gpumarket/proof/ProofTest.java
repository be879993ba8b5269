package io.gpumarket.proof;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.proof.Verifier.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProofTest {
  static final Instant T0 = Instant.parse("2026-11-22T00:00:00Z");

  static Challenge challenge(String nonce, int n) {
    return new Challenge(nonce, "dc-1", n, 8, T0, Duration.ofSeconds(30));
  }

  static Answer honest(Challenge c) {
    return Prover.answer(c, "simulated", ChallengeMatrices::product);
  }

  static Reason verdict(Challenge c, Answer a) {
    return Verifier.verify(c, a, Set.of(), T0.plusSeconds(1)).reason();
  }

  @Test
  void anHonestAnswerPassesAndTheProductIsExact() {
    Challenge c = challenge("9f2c1e", 96);
    Answer a = honest(c);
    Verifier.Verdict v = Verifier.verify(c, a, Set.of(), T0.plusSeconds(1));
    assertThat(v.passed()).as(v.message()).isTrue();
    assertThat(v.opsPerSecond()).isPositive();
    assertThat(a.rows()).hasSize(8);

    // The product is exact: a row recomputed naively matches.
    ChallengeMatrices m = ChallengeMatrices.derive("9f2c1e", 3);
    int[] c00 = {0};
    for (int k = 0; k < 3; k++) {
      c00[0] += m.a()[k] * m.b()[k * 3];
    }
    assertThat(m.product()[0]).isEqualTo(c00[0]);
    assertThat(ChallengeMatrices.derive("9f2c1e", 3).a()).isEqualTo(m.a());
    assertThat(ChallengeMatrices.derive("other", 3).a()).isNotEqualTo(m.a());
  }

  @Test
  void aProverThatCommitsToOneWrongRowIsCaughtWhenThatRowIsSampled() {
    int n = 64;
    // Cheat on one row; try rows until the commitment happens to sample it (chance k/n each).
    for (int r = 0; r < n; r++) {
      int cheat = r;
      Challenge c = challenge("cheat-" + r, n);
      Answer a =
          Prover.answer(
              c,
              "simulated",
              m -> {
                int[] p = m.product();
                p[cheat * n] += 1;
                return p;
              });
      if (a.rows().stream().anyMatch(row -> row.index() == cheat)) {
        Verifier.Verdict v = Verifier.verify(c, a, Set.of(), T0.plusSeconds(1));
        assertThat(v.reason()).isEqualTo(Reason.RowMismatch);
        assertThat(v.message()).isEqualTo("answer row " + cheat + " of the product is wrong");
        return;
      }
    }
    throw new AssertionError("no cheated row was ever sampled");
  }

  @Test
  void forgedAnswersAreRejectedEachWithItsReason() {
    Challenge c = challenge("abc123", 48);
    Answer a = honest(c);

    List<Answer.RevealedRow> swapped = new ArrayList<>(a.rows());
    var first = swapped.get(0);
    var second = swapped.get(1);
    swapped.set(0, new Answer.RevealedRow(first.index(), second.values(), first.path()));
    swapped.set(1, new Answer.RevealedRow(second.index(), first.values(), second.path()));
    assertThat(
            verdict(
                c,
                new Answer(
                    a.nonce(), a.gpuNode(), a.rootHex(), swapped, a.elapsedMillis(), a.backend())))
        .isEqualTo(Reason.BadMerklePath);

    List<Answer.RevealedRow> edited = new ArrayList<>(a.rows());
    int[] values = edited.get(2).values().clone();
    values[5]++;
    edited.set(2, new Answer.RevealedRow(edited.get(2).index(), values, edited.get(2).path()));
    assertThat(
            verdict(
                c,
                new Answer(
                    a.nonce(), a.gpuNode(), a.rootHex(), edited, a.elapsedMillis(), a.backend())))
        .isEqualTo(Reason.BadMerklePath);

    List<Answer.RevealedRow> chosen = new ArrayList<>(a.rows());
    chosen.set(0, new Answer.RevealedRow((first.index() + 1) % 48, first.values(), first.path()));
    assertThat(
            verdict(
                c,
                new Answer(
                    a.nonce(), a.gpuNode(), a.rootHex(), chosen, a.elapsedMillis(), a.backend())))
        .isEqualTo(Reason.WrongRowSelection);

    Verifier.Verdict replay = Verifier.verify(c, a, Set.of("abc123"), T0.plusSeconds(1));
    assertThat(replay.reason()).isEqualTo(Reason.ReplayedNonce);

    Verifier.Verdict late = Verifier.verify(c, a, Set.of(), T0.plusSeconds(31));
    assertThat(late.reason()).isEqualTo(Reason.TooSlow);
    assertThat(late.message()).contains("answered in 31000 ms").contains("within 30000 ms");

    Answer elsewhere =
        new Answer(a.nonce(), "dc-2", a.rootHex(), a.rows(), a.elapsedMillis(), a.backend());
    Verifier.Verdict wrongNode = Verifier.verify(c, elsewhere, Set.of(), T0.plusSeconds(1));
    assertThat(wrongNode.reason()).isEqualTo(Reason.WrongNode);
    assertThat(wrongNode.message())
        .isEqualTo("answer came from dc-2 for a challenge issued to dc-1");

    Answer stale = honest(challenge("old-nonce", 48));
    assertThat(verdict(c, stale)).isEqualTo(Reason.UnknownNonce);
  }

  @Test
  void merklePathsVerifyForEveryRowOfAnOddSizedTree() {
    int n = 13;
    int[] product = ChallengeMatrices.derive("odd", n).product();
    Merkle tree = Merkle.ofRows(product, n);
    for (int i = 0; i < n; i++) {
      int[] row = java.util.Arrays.copyOfRange(product, i * n, (i + 1) * n);
      assertThat(Merkle.verify(tree.rootHex(), i, row, tree.path(i), n)).as("row " + i).isTrue();
      assertThat(Merkle.verify(tree.rootHex(), (i + 1) % n, row, tree.path(i), n))
          .as("row " + i + " moved")
          .isFalse();
    }
  }
}
