package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.gpumarket.api.v1alpha1.GpuNode;
import java.time.Duration;
import java.time.Instant;

/**
 * Whether a GPU host is up and how many of its GPUs are healthy. Until the node agent reports
 * heartbeats and observed devices, this is the Kubernetes Node's Ready condition: a Ready node
 * counts every declared GPU as healthy.
 */
public final class NodeHealth {
  /**
   * @param reason a CamelCase reason for the GpuNode's Ready condition
   */
  public record Assessment(boolean ready, int healthyGpus, String reason, String message) {}

  /** How far ahead of the operator's clock a heartbeat may be dated before it is not believed. */
  static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  private NodeHealth() {}

  /**
   * With a heartbeat Lease from the node agent, the host is up while the Lease was renewed within
   * the GpuNode's grace, and its healthy GPUs are the devices the agent observed of the declared
   * model, at most the declared count. Without one, the Kubernetes Node decides.
   */
  public static Assessment assess(GpuNode gpuNode, Node node, Lease heartbeat, Instant now) {
    if (heartbeat == null
        || heartbeat.getSpec() == null
        || heartbeat.getSpec().getRenewTime() == null) {
      return fromKubernetesNode(gpuNode, node);
    }
    var spec = gpuNode.getSpec();
    int grace = spec.heartbeat == null ? 40 : spec.heartbeat.graceSeconds;
    Instant renewed = heartbeat.getSpec().getRenewTime().toInstant();
    String holder = heartbeat.getSpec().getHolderIdentity();
    if (holder != null && !holder.equals(gpuNode.getMetadata().getName())) {
      return new Assessment(
          false,
          0,
          "ImplausibleHeartbeat",
          "the heartbeat Lease is held by " + holder + ", not by this GpuNode's agent");
    }
    if (renewed.isAfter(now.plus(CLOCK_SKEW))) {
      return new Assessment(
          false,
          0,
          "ImplausibleHeartbeat",
          "the heartbeat is dated "
              + Duration.between(now, renewed).toSeconds()
              + "s in the future; check the agent host's clock");
    }
    long age = Math.max(0, Duration.between(renewed, now).toSeconds());
    if (age > grace) {
      return new Assessment(
          false,
          0,
          "HeartbeatStale",
          "no heartbeat from the node agent for " + age + "s (grace " + grace + "s)");
    }
    int healthy = spec.gpus.count;
    var observed = gpuNode.getStatus() == null ? null : gpuNode.getStatus().observed;
    if (observed != null) {
      long seen =
          observed.devices.stream()
              .filter(d -> d.healthy && spec.gpus.model.equals(d.model))
              .count();
      healthy = (int) Math.min(seen, spec.gpus.count);
    }
    return new Assessment(
        true,
        healthy,
        "HeartbeatFresh",
        "heartbeats are fresh; " + healthy + " of " + spec.gpus.count + " GPUs healthy");
  }

  /** When a fresh heartbeat goes stale if it is not renewed. */
  public static Instant staleAt(GpuNode gpuNode, Lease heartbeat) {
    int grace = gpuNode.getSpec().heartbeat == null ? 40 : gpuNode.getSpec().heartbeat.graceSeconds;
    return heartbeat.getSpec().getRenewTime().toInstant().plusSeconds(grace);
  }

  public static Assessment fromKubernetesNode(GpuNode gpuNode, Node node) {
    String nodeName = gpuNode.getSpec().nodeName;
    if (node == null) {
      return new Assessment(
          false, 0, "NodeNotFound", "Kubernetes Node " + nodeName + " does not exist");
    }
    var ready =
        node.getStatus() == null || node.getStatus().getConditions() == null
            ? null
            : node.getStatus().getConditions().stream()
                .filter(c -> "Ready".equals(c.getType()))
                .findFirst()
                .orElse(null);
    if (ready == null || !"True".equals(ready.getStatus())) {
      String why = ready == null ? "reports no Ready condition" : "is not Ready";
      String detail = ready != null && ready.getMessage() != null ? ": " + ready.getMessage() : "";
      return new Assessment(
          false, 0, "NodeNotReady", "Kubernetes Node " + nodeName + " " + why + detail);
    }
    int gpus = gpuNode.getSpec().gpus.count;
    return new Assessment(
        true,
        gpus,
        "NodeReady",
        "Kubernetes Node " + nodeName + " is Ready; " + gpus + " GPUs healthy");
  }
}
