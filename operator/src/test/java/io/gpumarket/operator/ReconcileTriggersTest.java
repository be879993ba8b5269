package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeGpus;
import io.gpumarket.api.v1alpha1.GpuNodeSpec;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferStatus;
import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.api.v1alpha1.UptimeStatus;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Which changes set reconciles off: at fleet scale the frequent, irrelevant ones (uptime writes,
 * offers' counts) must not reach thousands of offers or pending leases.
 */
class ReconcileTriggersTest {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private static GpuNode node() {
    GpuNode n = new GpuNode();
    n.getMetadata().setName("n");
    n.getMetadata().setGeneration(1L);
    n.getMetadata().setLabels(new HashMap<>(Map.of("gpumarket.io/provider", "p")));
    n.setSpec(new GpuNodeSpec());
    n.getSpec().provider = "p";
    n.getSpec().tier = Tier.EDGE;
    n.getSpec().nodeName = "n";
    n.getSpec().gpus = new GpuNodeGpus();
    n.getSpec().gpus.model = "l4";
    n.getSpec().gpus.count = 4;
    n.setStatus(new GpuNodeStatus());
    n.getStatus().allocatableGpus = 4;
    n.getStatus().uptime = new UptimeStatus();
    n.getStatus().uptime.ratio24h = 0.99;
    Conditions.set(n.getStatus().conditions, "Ready", true, "Heartbeat", "up", 1L, Instant.EPOCH);
    return n;
  }

  private static boolean changes(Consumer<GpuNode> change) {
    GpuNode before = node();
    GpuNode after = JSON.clone(before);
    change.accept(after);
    return GpuOfferReconciler.changesWhatOffersShow(after, before);
  }

  @Test
  void uptimeAndChallengesDoNotReachTheOffersHoldsHealthAndLabelsDo() {
    assertThat(changes(n -> n.getStatus().uptime.ratio24h = 0.98)).isFalse();
    assertThat(changes(n -> n.getStatus().lastHeartbeatTime = "2026-11-22T12:00:00Z")).isFalse();
    assertThat(
            changes(
                n ->
                    n.getStatus()
                        .allocations
                        .add(
                            new GpuAllocation(
                                new ObjectRef("team", "l"), "uid", new ObjectRef("p", "o"), 2))))
        .isTrue();
    assertThat(changes(n -> n.getStatus().allocatableGpus = 3)).isTrue();
    assertThat(
            changes(
                n ->
                    Conditions.set(
                        n.getStatus().conditions,
                        "Ready",
                        false,
                        "HeartbeatStale",
                        "down",
                        1L,
                        Instant.EPOCH)))
        .isTrue();
    assertThat(changes(n -> n.getMetadata().getLabels().put("zone", "a"))).isTrue();
    assertThat(changes(n -> n.getMetadata().setGeneration(2L))).isTrue();
  }

  @Test
  void jobsHearOfTheirNodesReadinessNotOfTheirLedgerOrUptime() {
    GpuNode before = node();
    GpuNode held = JSON.clone(before);
    held.getStatus()
        .allocations
        .add(new GpuAllocation(new ObjectRef("team", "l"), "uid", new ObjectRef("p", "o"), 2));
    held.getStatus().uptime.ratio24h = 0.5;
    assertThat(ComputeJobReconciler.readinessChanged(held, before)).isFalse();
    GpuNode down = JSON.clone(before);
    Conditions.set(
        down.getStatus().conditions,
        "Ready",
        false,
        "HeartbeatStale",
        "down",
        1L,
        Instant.parse("2026-11-22T12:00:00Z"));
    assertThat(ComputeJobReconciler.readinessChanged(down, before)).isTrue();
  }

  @Test
  void pendingLeasesAreNotSentThroughTheMarketForAnOffersCounts() {
    GpuOffer before = new GpuOffer();
    before.getMetadata().setGeneration(3L);
    before.setStatus(new GpuOfferStatus());
    before.getStatus().availableGpus = 8;
    GpuOffer counts = JSON.clone(before);
    counts.getStatus().availableGpus = 6;
    assertThat(GpuLeaseReconciler.mayChangeTheMarket(counts, before)).isFalse();
    GpuOffer repriced = JSON.clone(before);
    repriced.getMetadata().setGeneration(4L);
    assertThat(GpuLeaseReconciler.mayChangeTheMarket(repriced, before)).isTrue();
  }
}
