package io.gpumarket.proof;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** Checks an answer against the challenge issued, recomputing only the revealed rows. */
public final class Verifier {
  /** Why an answer fails; each is a reason for the GpuNode's Verified condition. */
  public enum Reason {
    Passed,
    UnknownNonce,
    ReplayedNonce,
    WrongNode,
    TooSlow,
    WrongRowSelection,
    BadMerklePath,
    RowMismatch
  }

  /**
   * The verdict.
   *
   * @param opsPerSecond the throughput the answer shows, when it passed
   */
  public record Verdict(Reason reason, String message, double opsPerSecond) {
    public boolean passed() {
      return reason == Reason.Passed;
    }
  }

  private Verifier() {}

  /**
   * @param answered nonces already answered, so a replay fails
   * @param receivedAt when the answer reached the operator
   */
  public static Verdict verify(
      Challenge issued, Answer answer, Set<String> answered, Instant receivedAt) {
    if (!issued.nonce().equals(answer.nonce())) {
      return fail(
          Reason.UnknownNonce,
          "answers nonce " + shortly(answer.nonce()) + ", which was never issued to it");
    }
    if (answered.contains(answer.nonce())) {
      return fail(
          Reason.ReplayedNonce,
          "replays an answer to nonce " + shortly(answer.nonce()) + " already checked");
    }
    if (!issued.gpuNode().equals(answer.gpuNode())) {
      return fail(
          Reason.WrongNode,
          "came from " + answer.gpuNode() + " for a challenge issued to " + issued.gpuNode());
    }
    Duration took = Duration.between(issued.issuedAt(), receivedAt);
    if (took.compareTo(issued.allowed()) > 0
        || answer.elapsedMillis() > issued.allowed().toMillis()) {
      return fail(
          Reason.TooSlow,
          "answered in "
              + took.toMillis()
              + " ms; the declared model answers a "
              + issued.size()
              + "x"
              + issued.size()
              + " challenge within "
              + issued.allowed().toMillis()
              + " ms");
    }
    int n = issued.size();
    List<Integer> expected =
        RowSampler.indices(issued.nonce(), answer.rootHex(), n, issued.samples());
    List<Integer> revealed = answer.rows().stream().map(Answer.RevealedRow::index).toList();
    if (!expected.equals(revealed)) {
      return fail(
          Reason.WrongRowSelection,
          "revealed rows " + revealed + " where the commitment selects " + expected);
    }
    ChallengeMatrices m = ChallengeMatrices.derive(issued.nonce(), n);
    for (Answer.RevealedRow row : answer.rows()) {
      if (row.values() == null
          || row.values().length != n
          || !Merkle.verify(answer.rootHex(), row.index(), row.values(), row.path(), n)) {
        return fail(
            Reason.BadMerklePath, "row " + row.index() + " does not hash up to the committed root");
      }
      if (!Arrays.equals(m.productRow(row.index()), row.values())) {
        return fail(Reason.RowMismatch, "row " + row.index() + " of the product is wrong");
      }
    }
    double seconds = Math.max(answer.elapsedMillis(), 1) / 1000.0;
    return new Verdict(
        Reason.Passed,
        "passed a " + n + "x" + n + " challenge in " + answer.elapsedMillis() + " ms",
        issued.operations() / seconds);
  }

  private static Verdict fail(Reason reason, String message) {
    return new Verdict(reason, "answer " + message, 0);
  }

  private static String shortly(String nonce) {
    return nonce == null ? "null" : nonce.substring(0, Math.min(12, nonce.length()));
  }
}
