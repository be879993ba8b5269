package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.Tier;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input that gets past the API server (the mock checks no schema, an old API server no CEL)
 * ends in a condition a person can act on, never a stack trace, and leases nothing.
 */
class BadInputTest {
  static MockCluster cluster;
  static Fleet fleet;
  static TestOperator operator;

  @BeforeAll
  static void start() {
    cluster = new MockCluster();
    fleet = cluster.fleet;
    fleet.namespace("tenant", Map.of("gpumarket.io/tenant", "true"));
    fleet.namespace("outsider", Map.of());
    fleet.namespace("acme", Map.of());
    fleet.namespace("bolt", Map.of());
    fleet.gpuNode("a-1", "acme", Tier.DATACENTER, "eu", "h100-80gb", 8);
    fleet.gpuNode("b-1", "bolt", Tier.DATACENTER, "eu", "h100-80gb", 8);
    GpuOffer limited = offerSpec("acme", "limited", "2.00");
    limited.getSpec().maxLeaseDuration = "24h";
    cluster.client.resource(limited).create();
    operator = TestOperator.start(cluster.client);
  }

  @AfterAll
  static void stop() {
    operator.close();
    cluster.close();
  }

  static GpuOffer offerSpec(String ns, String name, String price) {
    fleet.offer(ns, name + "-tmp", "acme", "h100-80gb", price);
    GpuOffer o = fleet.getOffer(ns, name + "-tmp");
    cluster.client.resource(o).delete();
    o.getMetadata().setName(name);
    o.getMetadata().setResourceVersion(null);
    o.getMetadata().setUid(null);
    o.setStatus(null);
    return o;
  }

  static Condition condition(List<Condition> conditions, String type) {
    return Conditions.find(conditions, type).orElseThrow();
  }

  static void assertReadable(String message) {
    assertThat(message).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("null");
  }

  @Test
  void aJobWhoseLeaseNameIsTakenSaysSoAndLeavesTheOtherLeaseAlone() {
    try (MockCluster own = new MockCluster()) {
      own.fleet.oneH100Host();
      own.fleet.create(Fleet.job("team-a", "train", List.of("h100-80gb"), 1, 4, null));
      ComputeJob job = own.fleet.getJob("team-a", "train");
      job.setStatus(new io.gpumarket.api.v1alpha1.ComputeJobStatus());
      GpuLease other = new GpuLease();
      other.getMetadata().setName(JobLeases.name(job));
      other.getMetadata().setNamespace("team-a");
      other.setSpec(new GpuLeaseSpec());
      other.getSpec().models = List.of("h100-80gb");
      other.getSpec().gpus = 1;
      own.client.resource(other).create();
      var run = TestOperator.jobRun(own.client);

      run.step(job, null, List.of(), List.of(job), own.fleet::getNode, java.time.Instant.now());

      Condition scheduled = condition(job.getStatus().conditions, "Scheduled");
      assertThat(scheduled.getReason()).isEqualTo("LeaseNameTaken");
      assertThat(scheduled.getMessage())
          .isEqualTo(
              "a GpuLease named "
                  + JobLeases.name(job)
                  + " exists that this job does not own; rename the job");
      GpuLease after = own.fleet.getLease("team-a", JobLeases.name(job));
      assertThat(after.getMetadata().getOwnerReferences()).isNullOrEmpty();
      assertThat(after.getSpec().gpus).isEqualTo(1);
    }
  }

  @Test
  void anOfferPricedAbcSaysSo() {
    cluster.client.resource(offerSpec("acme", "abc", "abc")).create();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              Condition ready =
                  condition(fleet.getOffer("acme", "abc").getStatus().conditions, "Ready");
              assertThat(ready.getStatus()).isEqualTo("False");
              assertThat(ready.getReason()).isEqualTo("InvalidSpec");
              assertThat(ready.getMessage())
                  .isEqualTo(
                      "spec.pricePerGpuHour \"abc\" is not a positive decimal such as \"2.40\"");
            });
  }

  @Test
  void anOfferForAnotherProvidersNodesSellsNothing() {
    GpuOffer o = offerSpec("acme", "poacher", "1.00");
    o.getSpec().nodeSelector = null;
    o.getSpec().nodeNames = List.of("b-1");
    cluster.client.resource(o).create();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              var status = fleet.getOffer("acme", "poacher").getStatus();
              Condition ready = condition(status.conditions, "Ready");
              assertThat(ready.getReason()).isEqualTo("NodesOfOtherProvider");
              assertThat(ready.getMessage()).contains("owned by another provider (b-1)");
              assertThat(status.availableGpus).isZero();
            });
    // A job that would take it at its price goes elsewhere, never to bolt's node through acme.
    fleet.create(Fleet.job("tenant", "cheap-h100", List.of("h100-80gb"), 1, 1, "1.50"));
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              ComputeJob job = fleet.getJob("tenant", "cheap-h100");
              assertThat(job.getStatus().phase).isEqualTo(JobPhase.Pending);
              assertThat(job.getStatus().message)
                  .contains("offers above the price cap start at 2.00 USD/h at acme/limited");
            });
  }

  @Test
  void unknownModelsAndImpossibleCountsAreRefusedWithReasons() {
    ComputeJob job =
        Fleet.job("tenant", "nonsense", List.of("h100", "gtx-1080"), 100000, -1, "abc");
    fleet.create(job);
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              ComputeJob j = fleet.getJob("tenant", "nonsense");
              assertThat(j.getStatus().phase).isEqualTo(JobPhase.Pending);
              Condition scheduled = condition(j.getStatus().conditions, "Scheduled");
              assertThat(scheduled.getReason()).isEqualTo("InvalidSpec");
              assertThat(j.getStatus().message)
                  .contains(
                      "spec.gpu.models: write the canonical key h100-80gb instead of \"h100\"")
                  .contains("spec.gpu.models: unknown GPU model \"gtx-1080\"")
                  .contains("spec.gpu.perReplica must be between 1 and 64, not -1")
                  .contains("spec.replicas must be between 1 and 512, not 100000")
                  .contains("spec.maxPricePerGpuHour \"abc\" is not a positive decimal");
              assertReadable(j.getStatus().message);
            });
    assertThat(fleet.leases("tenant"))
        .noneMatch(l -> l.getMetadata().getName().startsWith("nonsense"));

    GpuNode zero = new GpuNode();
    zero.getMetadata().setName("zero");
    zero.setSpec(fleet.getNode("a-1").getSpec());
    zero.getSpec().gpus.count = 0;
    zero.getSpec().nodeName = "zero";
    cluster.client.resource(zero).create();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              Condition ready = condition(fleet.getNode("zero").getStatus().conditions, "Ready");
              assertThat(ready.getReason()).isEqualTo("InvalidSpec");
              assertThat(ready.getMessage())
                  .isEqualTo("spec.gpus.count must be between 1 and 64, not 0");
              assertThat(fleet.getNode("zero").getStatus().allocatableGpus).isZero();
            });
  }

  @Test
  void aLeaseBeyondTheOffersLimitsWaitsAndSaysWhy() {
    GpuLease lease = new GpuLease();
    lease.getMetadata().setName("three-days");
    lease.getMetadata().setNamespace("tenant");
    lease.setSpec(new GpuLeaseSpec());
    lease.getSpec().offerRef = new io.gpumarket.api.v1alpha1.ObjectRef("acme", "limited");
    lease.getSpec().gpus = 2;
    lease.getSpec().duration = "72h";
    cluster.client.resource(lease).create();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              GpuLease l = fleet.getLease("tenant", "three-days");
              assertThat(l.getStatus().phase).isEqualTo(LeasePhase.Pending);
              assertThat(condition(l.getStatus().conditions, "Bound").getReason())
                  .isEqualTo("LeaseDurationOutOfRange");
              assertThat(l.getStatus().message)
                  .contains("a lease of 72h")
                  .contains("acme/limited leases for at most 24h");
            });
  }

  @Test
  void aJobInANamespaceNoOfferAdmitsWaitsAndSaysWhy() {
    fleet.create(Fleet.job("outsider", "uninvited", List.of("h100-80gb"), 1, 1, null));
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              ComputeJob j = fleet.getJob("outsider", "uninvited");
              assertThat(j.getStatus().phase).isEqualTo(JobPhase.Pending);
              assertThat(condition(j.getStatus().conditions, "Scheduled").getReason())
                  .isEqualTo("TenantNotAdmitted");
              assertThat(j.getStatus().message)
                  .isEqualTo(
                      "no h100-80gb offer admits namespace outsider; a provider must add it to an offer's tenants");
            });
  }
}
