package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeGpus;
import io.gpumarket.api.v1alpha1.GpuNodeSpec;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class NodeHealthTest {
  static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");

  static GpuNode node() {
    GpuNode n = new GpuNode();
    n.getMetadata().setName("dc-1");
    n.setSpec(new GpuNodeSpec());
    n.getSpec().nodeName = "dc-1";
    n.getSpec().gpus = new GpuNodeGpus();
    n.getSpec().gpus.model = "h100-80gb";
    n.getSpec().gpus.count = 8;
    return n;
  }

  static Lease lease(String holder, Instant renewed) {
    return new LeaseBuilder()
        .withNewSpec()
        .withHolderIdentity(holder)
        .withRenewTime(renewed.atZone(ZoneOffset.UTC))
        .endSpec()
        .build();
  }

  @Test
  void freshStaleAndImplausibleHeartbeats() {
    assertThat(NodeHealth.assess(node(), null, lease("dc-1", NOW.minusSeconds(5)), NOW).reason())
        .isEqualTo("HeartbeatFresh");
    var stale = NodeHealth.assess(node(), null, lease("dc-1", NOW.minusSeconds(41)), NOW);
    assertThat(stale.ready()).isFalse();
    assertThat(stale.message()).isEqualTo("no heartbeat from the node agent for 41s (grace 40s)");
    var future = NodeHealth.assess(node(), null, lease("dc-1", NOW.plusSeconds(3600)), NOW);
    assertThat(future.reason()).isEqualTo("ImplausibleHeartbeat");
    assertThat(future.message()).contains("3600s in the future");
    var foreign = NodeHealth.assess(node(), null, lease("dc-2", NOW), NOW);
    assertThat(foreign.reason()).isEqualTo("ImplausibleHeartbeat");
    assertThat(foreign.healthyGpus()).isZero();
    assertThat(NodeHealth.assess(node(), null, null, NOW).reason())
        .as("no agent: the Node decides")
        .isEqualTo("NodeNotFound");
  }
}
