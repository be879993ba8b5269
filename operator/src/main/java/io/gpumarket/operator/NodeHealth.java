package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.gpumarket.api.v1alpha1.GpuNode;

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

  private NodeHealth() {}

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
