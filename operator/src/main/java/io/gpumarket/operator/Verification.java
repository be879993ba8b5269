package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.ChallengeStatus;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.ObservedDevice;
import io.gpumarket.catalog.GpuCatalog;
import io.gpumarket.proof.Challenge;
import io.gpumarket.proof.Verifier;
import io.gpumarket.proof.Wire;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Whether a GpuNode is what its provider declares: the hardware its agent observed, and compute
 * challenges answered in the time the declared model allows. Issues a challenge at registration and
 * every {@code period}, checks answers, keeps the {@code Verified} condition.
 */
final class Verification {
  /**
   * How challenges are sized and timed.
   *
   * @param efficiency the share of the model's datasheet INT8 throughput a plain kernel reaches
   * @param overhead network, hashing and scheduling time allowed beside the product itself
   * @param acceptSimulated whether an agent simulating its GPUs on the CPU can be verified: for a
   *     test fleet or the sandbox; on a real fleet it means the agent found no usable driver
   */
  record Policy(
      int size,
      int samples,
      Duration period,
      Duration overhead,
      double efficiency,
      boolean acceptSimulated) {
    long allowedMillis(String model) {
      double tops = GpuCatalog.byKey(model).map(m -> m.int8Tops()).orElse(1.0);
      double seconds = 2.0 * size * size * (double) size / (tops * 1e12 * efficiency);
      return overhead.toMillis() + (long) Math.ceil(seconds * 1000);
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  /** The backend an agent reports when it computes on the CPU. */
  static final String SIMULATED = "simulated";

  private Verification() {}

  /**
   * One step for a node whose agent is up: checks an answer, times out a silent challenge, issues
   * the next, sets {@code Verified}.
   *
   * @param checked nonces already checked, so a replayed answer fails; the caller adds the nonce of
   *     an answer checked here once the verdict is stored, so that a status write lost to a
   *     conflict checks the same answer again rather than calling it a replay
   * @return the verdict checked in this step, or null
   */
  static Verifier.Verdict step(GpuNode node, Policy policy, Set<String> checked, Instant now) {
    var status = node.getStatus();
    ChallengeStatus ch = status.challenges == null ? new ChallengeStatus() : status.challenges;
    status.challenges = ch;
    String name = node.getMetadata().getName();
    Verifier.Verdict verdict = null;
    if (ch.answer != null) {
      if (ch.issued != null && ch.issued.nonce.equals(ch.answer.nonce)) {
        Challenge issued = Wire.challenge(ch.issued, name);
        verdict = Verifier.verify(issued, Wire.answer(ch.answer), checked, now);
      } else {
        verdict =
            new Verifier.Verdict(
                Verifier.Reason.UnknownNonce,
                "answer to nonce " + ch.answer.nonce + " that is not outstanding",
                0);
      }
    } else if (ch.issued != null
        && now.isAfter(Instant.parse(ch.issued.issuedTime).plusMillis(ch.issued.allowedMillis))) {
      verdict =
          new Verifier.Verdict(
              Verifier.Reason.TooSlow,
              "no answer within " + ch.issued.allowedMillis + " ms of the challenge",
              0);
    }
    if (verdict != null) {
      ch.issued = null;
      ch.answer = null;
      ch.lastCheckedTime = Times.formatMillis(now);
      ch.lastPassed = verdict.passed();
      ch.lastResult = verdict.reason().name();
      ch.lastMessage = verdict.message();
      if (verdict.passed()) {
        ch.passed++;
        ch.measuredOpsPerSecond = verdict.opsPerSecond();
      } else {
        ch.failed++;
      }
    }
    if (ch.issued == null
        && (ch.lastCheckedTime == null
            || !now.isBefore(Instant.parse(ch.lastCheckedTime).plus(policy.period())))) {
      byte[] nonce = new byte[16];
      RANDOM.nextBytes(nonce);
      Challenge next =
          new Challenge(
              HexFormat.of().formatHex(nonce),
              name,
              policy.size(),
              policy.samples(),
              now,
              Duration.ofMillis(policy.allowedMillis(node.getSpec().gpus.model)));
      ch.issued = Wire.issued(next);
      ch.issued.issuedTime = Times.formatMillis(now);
    }
    setVerified(node, policy, now);
    return verdict;
  }

  /** When to look again: the issued challenge's deadline, or the next one's issue. */
  static Duration next(GpuNode node, Policy policy, Instant now) {
    ChallengeStatus ch = node.getStatus().challenges;
    Instant at =
        ch.issued != null
            ? Instant.parse(ch.issued.issuedTime).plusMillis(ch.issued.allowedMillis)
            : Instant.parse(ch.lastCheckedTime).plus(policy.period());
    return Duration.between(now, at).plusMillis(50);
  }

  /** The hardware the agent saw, against the spec; null when it matches or nothing was seen. */
  static String hardwareProblem(GpuNode node) {
    var observed = node.getStatus() == null ? null : node.getStatus().observed;
    if (observed == null) {
      return null;
    }
    var spec = node.getSpec().gpus;
    Map<String, Integer> found = new TreeMap<>();
    for (ObservedDevice d : observed.devices) {
      found.merge(d.model == null ? "unknown (" + d.product + ")" : d.model, 1, Integer::sum);
    }
    int matching = found.getOrDefault(spec.model, 0);
    if (matching >= spec.count) {
      return null;
    }
    return "declared "
        + spec.count
        + " "
        + spec.model
        + " but the agent found "
        + (found.isEmpty() ? "none" : found);
  }

  private static void setVerified(GpuNode node, Policy policy, Instant now) {
    var status = node.getStatus();
    ChallengeStatus ch = status.challenges;
    Long generation = node.getMetadata().getGeneration();
    String hardware = hardwareProblem(node);
    if (hardware != null) {
      Conditions.set(
          status.conditions, "Verified", false, "HardwareMismatch", hardware, generation, now);
    } else if (!policy.acceptSimulated()
        && status.observed != null
        && SIMULATED.equals(status.observed.backend)) {
      // A GPU host whose driver the agent could not use falls back to the simulation and would
      // pass its challenges on the CPU; its GPUs were never seen, so it is not verified.
      Conditions.set(
          status.conditions,
          "Verified",
          false,
          "SimulatedGpus",
          "the node agent simulates its GPUs on the CPU (its log says why it found no usable CUDA"
              + " driver), so no GPU of this host was observed; fix the driver, or set"
              + " gpumarket.verification.accept-simulated=true on a test fleet",
          generation,
          now);
    } else if (ch.lastPassed == null) {
      Conditions.set(
          status.conditions,
          "Verified",
          Conditions.UNKNOWN,
          "AwaitingChallenge",
          "the first compute challenge is out; no answer checked yet",
          generation,
          now);
    } else {
      Conditions.set(
          status.conditions,
          "Verified",
          ch.lastPassed,
          ch.lastPassed ? "ChallengePassed" : ch.lastResult,
          ch.lastMessage,
          generation,
          now);
    }
  }
}
