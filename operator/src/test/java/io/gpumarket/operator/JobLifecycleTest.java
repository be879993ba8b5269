package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.Tier;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Retries, deadlines, cancellation, deletion, reserved leases and hosts going down. */
class JobLifecycleTest {
  static MockCluster cluster;
  static Fleet fleet;
  static TestOperator operator;
  static final String NS = "team";

  @BeforeAll
  static void start() {
    cluster = new MockCluster();
    fleet = cluster.fleet;
    fleet.namespace(NS, Map.of("gpumarket.io/tenant", "true"));
    fleet.namespace("prov", Map.of());
    for (String model : List.of("t4", "l4", "a100-40gb", "rtx-3090", "rtx-5090", "v100-16gb")) {
      fleet.gpuNode(model + "-n", "prov", Tier.DATACENTER, "eu", model, 4);
      fleet.offer("prov", model, "prov", model, "1.00");
    }
    fleet.gpuNode("l40s-n", "prov", Tier.DATACENTER, "eu", "l40s", 8);
    fleet.offer("prov", "l40s", "prov", "l40s", "0.90");
    operator = TestOperator.start(cluster.client);
  }

  @AfterAll
  static void stop() {
    operator.close();
    cluster.close();
  }

  static ComputeJob awaitPhase(String name, JobPhase phase) {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(fleet.getJob(NS, name).getStatus().phase).isEqualTo(phase));
    return fleet.getJob(NS, name);
  }

  static void awaitPods(String name, int count) {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(fleet.pods(NS, name)).hasSize(count));
  }

  @Test
  void aFailedAttemptIsRetriedUpToTheBackoffLimitThenTheJobFailsAndReturnsItsGpus() {
    ComputeJob job = Fleet.job(NS, "flaky", List.of("t4"), 2, 2, null);
    job.getSpec().backoffLimit = 1;
    fleet.create(job);
    awaitPods("flaky", 2);
    fleet.setPodPhase(fleet.pods(NS, "flaky").get(0), "Failed");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(fleet.pods(NS, "flaky"))
                  .extracting(p -> p.getMetadata().getName())
                  .containsExactlyInAnyOrder("flaky-a2-r0", "flaky-a2-r1");
              assertThat(fleet.getJob(NS, "flaky").getStatus().attempts).isEqualTo(2);
            });
    fleet.setPodPhase(fleet.pods(NS, "flaky").get(1), "Failed");
    ComputeJob failed = awaitPhase("flaky", JobPhase.Failed);
    assertThat(Conditions.find(failed.getStatus().conditions, "Failed").get().getReason())
        .isEqualTo("BackoffLimitExceeded");
    assertThat(failed.getStatus().message).contains("backoffLimit 1 reached");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(fleet.getLease(NS, failed.getStatus().lease).getStatus().phase)
                  .isEqualTo(LeasePhase.Released);
              assertThat(fleet.getNode("t4-n").getStatus().leasedGpus).isZero();
            });
  }

  @Test
  void aJobPastItsDeadlineFailsAndItsPodsStop() {
    ComputeJob job = Fleet.job(NS, "slow", List.of("l4"), 1, 1, null);
    job.getSpec().activeDeadlineSeconds = 4L;
    fleet.create(job);
    awaitPods("slow", 1);
    fleet.setPodPhases(NS, "slow", "Running");
    ComputeJob failed = awaitPhase("slow", JobPhase.Failed);
    assertThat(Conditions.find(failed.getStatus().conditions, "Failed").get().getReason())
        .isEqualTo("DeadlineExceeded");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(fleet.pods(NS, "slow")).isEmpty());
    GpuLease lease = fleet.getLease(NS, failed.getStatus().lease);
    assertThat(lease.getSpec().duration)
        .as("the lease lasts as long as the deadline")
        .isEqualTo("4s");
  }

  @Test
  void aCancelledJobStopsAndReleasesItsLease() {
    fleet.create(Fleet.job(NS, "cancel-me", List.of("a100-40gb"), 1, 4, null));
    awaitPods("cancel-me", 1);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                fleet
                    .client
                    .resources(ComputeJob.class)
                    .inNamespace(NS)
                    .withName("cancel-me")
                    .edit(
                        j -> {
                          j.getSpec().cancel = true;
                          return j;
                        }));
    ComputeJob cancelled = awaitPhase("cancel-me", JobPhase.Cancelled);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(fleet.pods(NS, "cancel-me")).isEmpty();
              assertThat(fleet.getLease(NS, cancelled.getStatus().lease).getStatus().phase)
                  .isEqualTo(LeasePhase.Released);
              assertThat(fleet.getNode("a100-40gb-n").getStatus().leasedGpus).isZero();
            });
  }

  @Test
  void deletingARunningJobStopsItsPodsAndKeepsWhatItWasBilled() throws InterruptedException {
    fleet.create(Fleet.job(NS, "doomed", List.of("rtx-3090"), 1, 2, null));
    awaitPods("doomed", 1);
    fleet.setPodPhases(NS, "doomed", "Running");
    String leaseName = awaitPhase("doomed", JobPhase.Running).getStatus().lease;
    Thread.sleep(2100);
    fleet.client.resources(ComputeJob.class).inNamespace(NS).withName("doomed").delete();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(fleet.getJob(NS, "doomed")).isNull();
              assertThat(fleet.pods(NS, "doomed")).isEmpty();
              GpuLease lease = fleet.getLease(NS, leaseName);
              assertThat(lease.getMetadata().getOwnerReferences())
                  .as("kept as the billing record")
                  .isEmpty();
              assertThat(lease.getStatus().phase).isEqualTo(LeasePhase.Released);
              assertThat(lease.getStatus().gpuSeconds).isGreaterThanOrEqualTo(4);
              assertThat(new BigDecimal(lease.getStatus().cost)).isPositive();
              assertThat(fleet.getNode("rtx-3090-n").getStatus().leasedGpus).isZero();
            });
  }

  @Test
  void jobsShareAReservedLeaseWithoutOverfillingIt() {
    GpuLease reserved = new GpuLease();
    reserved.getMetadata().setName("reserved");
    reserved.getMetadata().setNamespace(NS);
    reserved.setSpec(new GpuLeaseSpec());
    reserved.getSpec().models = List.of("l40s");
    reserved.getSpec().gpus = 8;
    reserved.getSpec().gpusPerNode = 8;
    reserved.getSpec().duration = "1h";
    fleet.client.resource(reserved).create();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThat(fleet.getLease(NS, "reserved").getStatus().phase)
                    .isEqualTo(LeasePhase.Active));

    for (String name : List.of("share-1", "share-2", "share-3")) {
      ComputeJob job = Fleet.job(NS, name, List.of("l40s"), 1, 4, null);
      job.getSpec().leaseRef = "reserved";
      fleet.create(job);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              long scheduled =
                  List.of("share-1", "share-2", "share-3").stream()
                      .filter(n -> fleet.getJob(NS, n).getStatus().phase == JobPhase.Scheduled)
                      .count();
              assertThat(scheduled).isEqualTo(2);
              ComputeJob waiting =
                  List.of("share-1", "share-2", "share-3").stream()
                      .map(n -> fleet.getJob(NS, n))
                      .filter(j -> j.getStatus().phase == JobPhase.Pending)
                      .findFirst()
                      .orElseThrow();
              assertThat(waiting.getStatus().message)
                  .isEqualTo(
                      "GpuLease reserved has no room for 1 x 4 GPUs beside the jobs already on it");
            });
    assertThat(fleet.leases(NS)).noneMatch(l -> l.getMetadata().getName().startsWith("share-"));
    assertThat(fleet.getNode("l40s-n").getStatus().leasedGpus).isEqualTo(8);
  }

  @Test
  void aHostThatGoesDownTakesItsFreeGpusOffTheMarket() {
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThat(fleet.getOffer("prov", "rtx-5090").getStatus().availableGpus)
                    .isEqualTo(4));
    fleet.setNodeReady("rtx-5090-n", false);
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              var node = fleet.getNode("rtx-5090-n");
              assertThat(Conditions.find(node.getStatus().conditions, "Ready").get().getReason())
                  .isEqualTo("NodeNotReady");
              assertThat(node.getStatus().allocatableGpus).isZero();
              assertThat(fleet.getOffer("prov", "rtx-5090").getStatus().availableGpus).isZero();
            });
    fleet.create(Fleet.job(NS, "needs-5090", List.of("rtx-5090"), 1, 1, null));
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThat(fleet.getJob(NS, "needs-5090").getStatus().message)
                    .contains("1 node not ready"));
    fleet.setNodeReady("rtx-5090-n", true);
    awaitPods("needs-5090", 1);
  }
}
