package io.gpumarket.agent;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "gpumarket-agent");
            t.setDaemon(true);
            return t;
          });
  private volatile int failures;

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
        metrics.observed(hw);
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
    try {
      renew();
      failures = 0;
      metrics.heartbeat(true);
      next = interval();
    } catch (RuntimeException e) {
      failures++;
      metrics.heartbeat(false);
      next = Duration.ofMillis(Math.min(interval().toMillis(), 250L << Math.min(failures, 6)));
      LOG.warning(
          "heartbeat of " + gpuNode + " failed (" + failures + " in a row): " + e.getMessage());
    }
    if (!timer.isShutdown()) {
      timer.schedule(this::beat, next.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void renew() {
    var leases = client.leases().inNamespace(leaseNamespace);
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
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
                  .withLeaseDurationSeconds((int) grace().toSeconds())
                  .withAcquireTime(now)
                  .withRenewTime(now)
                  .endSpec()
                  .build())
          .create();
    } else {
      current.getSpec().setRenewTime(now);
      current.getSpec().setLeaseDurationSeconds((int) grace().toSeconds());
      leases.resource(current).update();
    }
  }

  private Duration interval() {
    GpuNode node = client.resources(GpuNode.class).withName(gpuNode).get();
    int seconds =
        node == null || node.getSpec().heartbeat == null
            ? 10
            : node.getSpec().heartbeat.intervalSeconds;
    return Duration.ofSeconds(seconds);
  }

  private Duration grace() {
    GpuNode node = client.resources(GpuNode.class).withName(gpuNode).get();
    int seconds =
        node == null || node.getSpec().heartbeat == null
            ? 40
            : node.getSpec().heartbeat.graceSeconds;
    return Duration.ofSeconds(seconds);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    backend.close();
  }
}
