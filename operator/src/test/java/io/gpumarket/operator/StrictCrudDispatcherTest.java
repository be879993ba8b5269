package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.Tier;
import org.junit.jupiter.api.Test;

/** The mock API server refuses a stale status update, as a real one does and the ledger needs. */
class StrictCrudDispatcherTest {
  @Test
  void aStaleStatusUpdateIsAConflictAndAFreshOneWins() {
    try (MockCluster c = new MockCluster()) {
      c.fleet.gpuNode("n", "p", Tier.EDGE, "r", "l4", 1);
      GpuNode first = c.client.resources(GpuNode.class).withName("n").get();
      GpuNode stale = c.client.resources(GpuNode.class).withName("n").get();
      first.setStatus(new GpuNodeStatus());
      first.getStatus().leasedGpus = 1;
      c.client.resource(first).updateStatus();

      stale.setStatus(new GpuNodeStatus());
      stale.getStatus().leasedGpus = 2;
      assertThatThrownBy(() -> c.client.resource(stale).updateStatus())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
      assertThat(c.client.resources(GpuNode.class).withName("n").get().getStatus().leasedGpus)
          .isEqualTo(1);
    }
  }
}
