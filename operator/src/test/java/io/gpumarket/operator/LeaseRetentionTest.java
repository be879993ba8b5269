package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.GpuLeaseStatus;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.Tier;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Ended leases of deleted jobs go after the retention; nothing else does. */
class LeaseRetentionTest {
  private static final Instant ENDED = Instant.parse("2026-11-01T10:00:00Z");
  private final LeaseRetention retention = new LeaseRetention(Duration.ofDays(30));

  private static GpuLease lease(LeasePhase phase, boolean madeForAJob, boolean owned) {
    GpuLease l = new GpuLease();
    l.getMetadata().setName("l");
    l.getMetadata().setCreationTimestamp("2026-11-01T09:00:00Z");
    if (madeForAJob) {
      l.getMetadata().setLabels(Map.of(Labels.MANAGED_BY, Labels.MANAGER, Labels.JOB, "train"));
    }
    if (owned) {
      l.getMetadata().setOwnerReferences(List.of(new OwnerReference()));
    }
    l.setStatus(new GpuLeaseStatus());
    l.getStatus().phase = phase;
    l.getStatus().endTime = Times.format(ENDED);
    return l;
  }

  @Test
  void onlyAnEndedLeaseTheOperatorMadeForAJobNowGoneIsDeletedAndOnlyAfterTheRetention() {
    Instant now = ENDED.plus(Duration.ofDays(10));
    assertThat(retention.remaining(lease(LeasePhase.Released, true, false), now))
        .isEqualTo(Duration.ofDays(20));
    assertThat(retention.remaining(lease(LeasePhase.Expired, true, false), ENDED.plusSeconds(1)))
        .isEqualTo(Duration.ofDays(30).minusSeconds(1));
    assertThat(
            retention.remaining(
                lease(LeasePhase.Released, true, false), ENDED.plus(Duration.ofDays(31))))
        .isNegative();
    assertThat(retention.remaining(lease(LeasePhase.Active, true, false), now))
        .as("running")
        .isNull();
    assertThat(retention.remaining(lease(LeasePhase.Released, true, true), now))
        .as("its job still there")
        .isNull();
    assertThat(retention.remaining(lease(LeasePhase.Released, false, false), now))
        .as("a person's or a GitOps tool's lease")
        .isNull();
  }

  @Test
  void aLeaseReleasedBeforeItWasBoundCountsFromItsRelease() {
    GpuLease l = lease(LeasePhase.Released, true, false);
    l.getStatus().endTime = null;
    Conditions.set(l.getStatus().conditions, "Bound", false, "Released", "r", 1L, ENDED);
    assertThat(retention.remaining(l, ENDED.plus(Duration.ofDays(1))))
        .isEqualTo(Duration.ofDays(29));
  }

  @Test
  void theOperatorDeletesADeletedJobsLeaseAfterTheRetentionAndKeepsAReservedOne() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("team", Map.of("gpumarket.io/tenant", "true"));
      fleet.namespace("prov", Map.of());
      fleet.gpuNode("l4-n", "prov", Tier.DATACENTER, "eu", "l4", 4);
      fleet.offer("prov", "l4", "prov", "l4", "1.00");
      try (TestOperator operator =
          TestOperator.start(
              cluster.client,
              TestOperator.Options.TESTS.withLeaseRetention(Duration.ofSeconds(3)))) {
        GpuLease reserved = new GpuLease();
        reserved.getMetadata().setName("reserved");
        reserved.getMetadata().setNamespace("team");
        reserved.setSpec(new GpuLeaseSpec());
        reserved.getSpec().models = List.of("l4");
        reserved.getSpec().gpus = 1;
        reserved.getSpec().duration = "1h";
        reserved.getSpec().release = true;
        cluster.client.resource(reserved).create();

        fleet.create(Fleet.job("team", "short", List.of("l4"), 1, 2, null));
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () ->
                    assertThat(fleet.getJob("team", "short").getStatus().phase)
                        .isEqualTo(JobPhase.Scheduled));
        String leaseName = fleet.getJob("team", "short").getStatus().lease;
        cluster.client.resources(ComputeJob.class).inNamespace("team").withName("short").delete();
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  GpuLease kept = fleet.getLease("team", leaseName);
                  assertThat(kept).as("kept at first, as the billing record").isNotNull();
                  assertThat(kept.getStatus().phase).isEqualTo(LeasePhase.Released);
                  assertThat(kept.getMetadata().getOwnerReferences()).isEmpty();
                });
        await()
            .atMost(Duration.ofSeconds(15))
            .untilAsserted(() -> assertThat(fleet.getLease("team", leaseName)).isNull());
        assertThat(fleet.getLease("team", "reserved").getStatus().phase)
            .isEqualTo(LeasePhase.Released);
      }
    }
  }
}
