package io.gpumarket.agent;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.ChallengeAnswer;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.gpumarket.proof.Answer;
import io.gpumarket.proof.Challenge;
import io.gpumarket.proof.Prover;
import io.gpumarket.proof.Wire;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The node agent of one GpuNode: reports the GPUs it finds into the GpuNode's {@code
 * status.observed} (and nothing else of the status), and renews a {@code coordination.k8s.io} Lease
 * as its heartbeat, as the kubelet does for a Node, backing off when the API server fails.
 */
public final class NodeAgent implements AutoCloseable {
  /** The label that ties a heartbeat Lease to its GpuNode. */
  public static final String GPUNODE_LABEL = "gpumarket.io/gpunode";

  private static final Logger LOG = Logger.getLogger(NodeAgent.class.getName());
  private static final Duration OBSERVE_EVERY = Duration.ofSeconds(60);

  private final KubernetesClient client;
  private final GpuBackend backend;
  private final String gpuNode;
  private final String leaseNamespace;
  private final AgentMetrics metrics;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(daemon("gpumarket-agent"));
  private volatile int failures;
  private volatile String lastAnswered;

  /** Challenges run on their own thread, so a long product never delays a heartbeat. */
  private final ExecutorService prover =
      Executors.newSingleThreadExecutor(daemon("gpumarket-prover"));

  /** How this agent answers a challenge; honest unless a test plays a cheat. */
  private Function<Challenge, Answer> answers;

  public NodeAgent(
      KubernetesClient client,
      GpuBackend backend,
      String gpuNode,
      String leaseNamespace,
      AgentMetrics metrics) {
    this.client = client;
    this.backend = backend;
    this.gpuNode = gpuNode;
    this.leaseNamespace = leaseNamespace;
    this.metrics = metrics;
    this.answers = c -> Prover.answer(c, backend.name(), backend::multiply);
    metrics.telemetry(gpuNode, backend.telemetry());
  }

  /** Replaces how challenges are answered: for tests that play a dishonest agent. */
  public NodeAgent answeringWith(Function<Challenge, Answer> answers) {
    this.answers = answers;
    return this;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  public static String leaseName(String gpuNode) {
    return "gpunode-" + gpuNode;
  }

  public void start() {
    timer.execute(this::observe);
    timer.scheduleWithFixedDelay(
        this::observe, OBSERVE_EVERY.toSeconds(), OBSERVE_EVERY.toSeconds(), TimeUnit.SECONDS);
    timer.execute(this::beat);
  }

  /**
   * Writes what the backend finds; only {@code status.observed} changes. The operator writes the
   * same status, so a conflict is retried at once on a fresh read.
   */
  void observe() {
    ObservedHardware hw = backend.discover();
    hw.observedTime = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    // What was found is metrics' business even when the API server cannot be told.
    metrics.observed(hw);
    for (int attempt = 1; ; attempt++) {
      try {
        client
            .resources(GpuNode.class)
            .withName(gpuNode)
            .editStatus(
                n -> {
                  if (n.getStatus() == null) {
                    n.setStatus(new GpuNodeStatus());
                  }
                  n.getStatus().observed = hw;
                  return n;
                });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 5) {
          LOG.warning("could not report the GPUs of " + gpuNode + ": " + e.getMessage());
          return;
        }
      }
    }
  }

  /**
   * Renews the heartbeat, then schedules the next one: on time, or sooner with backoff after a
   * failure.
   */
  private void beat() {
    Duration next;
    GpuNode node = null;
    try {
      node = client.resources(GpuNode.class).withName(gpuNode).get();
      renew(node);
      failures = 0;
      metrics.heartbeat(true);
      next = interval(node);
    } catch (RuntimeException e) {
      failures++;
      metrics.heartbeat(false);
      next = Duration.ofMillis(Math.min(interval(node).toMillis(), 250L << Math.min(failures, 6)));
      LOG.warning(
          "heartbeat of " + gpuNode + " failed (" + failures + " in a row): " + e.getMessage());
    }
    if (node != null) {
      GpuNode seen = node;
      prover.execute(() -> answerChallenge(seen));
    }
    if (!timer.isShutdown()) {
      timer.schedule(this::beat, next.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Answers the challenge the operator issued, once, on its own thread so heartbeats go on. */
  private void answerChallenge(GpuNode node) {
    var challenges = node.getStatus() == null ? null : node.getStatus().challenges;
    if (challenges == null
        || challenges.issued == null
        || challenges.issued.nonce.equals(lastAnswered)) {
      return;
    }
    if (challenges.answer != null && challenges.issued.nonce.equals(challenges.answer.nonce)) {
      return;
    }
    Challenge challenge = Wire.challenge(challenges.issued, gpuNode);
    ChallengeAnswer answer = Wire.answer(answers.apply(challenge));
    lastAnswered = challenge.nonce();
    for (int attempt = 1; attempt <= 5; attempt++) {
      try {
        client
            .resources(GpuNode.class)
            .withName(gpuNode)
            .editStatus(
                n -> {
                  if (n.getStatus().challenges != null
                      && n.getStatus().challenges.issued != null
                      && challenge.nonce().equals(n.getStatus().challenges.issued.nonce)) {
                    n.getStatus().challenges.answer = answer;
                  }
                  return n;
                });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          LOG.warning("could not answer challenge of " + gpuNode + ": " + e.getMessage());
          return;
        }
      }
    }
  }

  private void renew(GpuNode node) {
    var leases = client.leases().inNamespace(leaseNamespace);
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    int grace = (int) grace(node).toSeconds();
    Lease current = leases.withName(leaseName(gpuNode)).get();
    if (current == null) {
      leases
          .resource(
              new LeaseBuilder()
                  .withNewMetadata()
                  .withName(leaseName(gpuNode))
                  .withNamespace(leaseNamespace)
                  .addToLabels(GPUNODE_LABEL, gpuNode)
                  .endMetadata()
                  .withNewSpec()
                  .withHolderIdentity(gpuNode)
                  .withLeaseDurationSeconds(grace)
                  .withAcquireTime(now)
                  .withRenewTime(now)
                  .endSpec()
                  .build())
          .create();
    } else {
      current.getSpec().setRenewTime(now);
      current.getSpec().setLeaseDurationSeconds(grace);
      leases.resource(current).update();
    }
  }

  private static Duration interval(GpuNode node) {
    return Duration.ofSeconds(
        node == null || node.getSpec().heartbeat == null
            ? 10
            : node.getSpec().heartbeat.intervalSeconds);
  }

  private static Duration grace(GpuNode node) {
    return Duration.ofSeconds(
        node == null || node.getSpec().heartbeat == null
            ? 40
            : node.getSpec().heartbeat.graceSeconds);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    prover.shutdownNow();
    backend.close();
  }
}
