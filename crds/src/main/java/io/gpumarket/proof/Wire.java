package io.gpumarket.proof;

import io.gpumarket.api.v1alpha1.ChallengeAnswer;
import io.gpumarket.api.v1alpha1.IssuedChallenge;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts challenges and answers between the protocol and the GpuNode status that carries them.
 */
public final class Wire {
  private Wire() {}

  public static Challenge challenge(IssuedChallenge issued, String gpuNode) {
    return new Challenge(
        issued.nonce,
        gpuNode,
        issued.size,
        issued.samples,
        Instant.parse(issued.issuedTime),
        Duration.ofMillis(issued.allowedMillis));
  }

  public static IssuedChallenge issued(Challenge c) {
    IssuedChallenge issued = new IssuedChallenge();
    issued.nonce = c.nonce();
    issued.size = c.size();
    issued.samples = c.samples();
    issued.issuedTime = c.issuedAt().toString();
    issued.allowedMillis = c.allowed().toMillis();
    return issued;
  }

  public static ChallengeAnswer answer(Answer a) {
    ChallengeAnswer out = new ChallengeAnswer();
    out.nonce = a.nonce();
    out.gpuNode = a.gpuNode();
    out.root = a.rootHex();
    out.elapsedMillis = a.elapsedMillis();
    out.backend = a.backend();
    for (Answer.RevealedRow r : a.rows()) {
      ChallengeAnswer.AnsweredRow row = new ChallengeAnswer.AnsweredRow();
      row.index = r.index();
      for (int v : r.values()) {
        row.values.add(v);
      }
      for (String h : r.path()) {
        row.path.add(h == null ? "" : h);
      }
      out.rows.add(row);
    }
    return out;
  }

  public static Answer answer(ChallengeAnswer a) {
    List<Answer.RevealedRow> rows = new ArrayList<>();
    for (ChallengeAnswer.AnsweredRow r : a.rows) {
      int[] values = r.values.stream().mapToInt(Integer::intValue).toArray();
      List<String> path = r.path.stream().map(h -> h.isEmpty() ? null : h).toList();
      rows.add(new Answer.RevealedRow(r.index, values, path));
    }
    return new Answer(a.nonce, a.gpuNode, a.root, rows, a.elapsedMillis, a.backend);
  }
}
