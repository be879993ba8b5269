package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
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
 * The operator against fabric8's mock API server: a fleet of edge and datacenter GpuNodes, offers
 * at several prices, jobs for several models. The test plays the kubelet by moving pod phases.
 */
class MarketOperatorTest {
  static MockCluster cluster;
  static Fleet fleet;
  static TestOperator operator;

  @BeforeAll
  static void fleet() {
    cluster = new MockCluster();
    fleet = cluster.fleet;
    fleet.namespace("team-a", Map.of("gpumarket.io/tenant", "true"));
    fleet.namespace("team-b", Map.of());
    fleet.namespace("acme", Map.of());
    fleet.namespace("bolt", Map.of());
    fleet.gpuNode("dc-acme-1", "acme", Tier.DATACENTER, "eu-west", "h100-80gb", 8);
    fleet.gpuNode("dc-acme-2", "acme", Tier.DATACENTER, "eu-west", "h100-80gb", 8);
    fleet.gpuNode("dc-bolt-1", "bolt", Tier.DATACENTER, "us-east", "h100-80gb", 8);
    fleet.gpuNode("dc-bolt-2", "bolt", Tier.DATACENTER, "us-east", "a100-40gb", 4);
    fleet.gpuNode("edge-acme-1", "acme", Tier.EDGE, "eu-west", "rtx-4090", 1);
    fleet.gpuNode("edge-acme-2", "acme", Tier.EDGE, "eu-west", "rtx-4090", 1);
    fleet.offer("acme", "h100", "acme", "h100-80gb", "2.40");
    fleet.offer("bolt", "h100", "bolt", "h100-80gb", "2.10");
    fleet.offer("bolt", "a100", "bolt", "a100-40gb", "1.20");
    fleet.offer("acme", "rtx4090", "acme", "rtx-4090", "0.40");
    operator = TestOperator.start(cluster.client);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(fleet.getOffer("acme", "h100").getStatus().availableGpus).isEqualTo(16);
              assertThat(fleet.getOffer("bolt", "h100").getStatus().largestFreeBlock).isEqualTo(8);
            });
  }

  @AfterAll
  static void stop() {
    operator.close();
    cluster.close();
  }

  @Test
  void aJobRunsOnTheCheapestOfferAndReturnsItsGpusWhenItSucceeds() {
    List<String> statuses = new java.util.concurrent.CopyOnWriteArrayList<>();
    var watch =
        cluster
            .client
            .resources(ComputeJob.class)
            .inNamespace("team-a")
            .withName("train")
            .watch(
                new io.fabric8.kubernetes.client.Watcher<>() {
                  @Override
                  public void eventReceived(Action action, ComputeJob j) {
                    if (j.getStatus() != null) {
                      String seen = j.getStatus().phase + ": " + j.getStatus().message;
                      if (statuses.isEmpty() || !statuses.get(statuses.size() - 1).equals(seen)) {
                        statuses.add(seen);
                      }
                    }
                  }

                  @Override
                  public void onClose(io.fabric8.kubernetes.client.WatcherException e) {}
                });
    fleet.create(Fleet.job("team-a", "train", List.of("h100-80gb"), 1, 4, "3.00"));

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(fleet.pods("team-a", "train")).hasSize(1));
    Pod pod = fleet.pods("team-a", "train").get(0);
    var term =
        pod.getSpec()
            .getAffinity()
            .getNodeAffinity()
            .getRequiredDuringSchedulingIgnoredDuringExecution()
            .getNodeSelectorTerms()
            .get(0);
    assertThat(term.getMatchFields().get(0).getKey()).isEqualTo("metadata.name");
    assertThat(term.getMatchFields().get(0).getValues()).containsExactly("dc-bolt-1");
    assertThat(
            pod.getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getLimits()
                .get("nvidia.com/gpu")
                .getAmount())
        .isEqualTo("4");
    assertThat(pod.getSpec().getTolerations()).anyMatch(t -> "gpumarket.io/gpu".equals(t.getKey()));
    assertThat(pod.getMetadata().getOwnerReferences().get(0).getKind()).isEqualTo("ComputeJob");
    assertThat(pod.getMetadata().getLabels()).containsEntry(Labels.JOB, "train");

    // The job's status is written after its pods are created.
    ComputeJob job =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> fleet.getJob("team-a", "train"),
                j -> j.getStatus() != null && j.getStatus().phase == JobPhase.Scheduled);
    // Bound at the first try, the job went from what it asked for straight to its pods.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(statuses).anyMatch(st -> st.startsWith("Scheduled")));
    watch.close();
    assertThat(
            statuses.subList(
                0,
                statuses.indexOf(
                    statuses.stream()
                        .filter(st -> st.startsWith("Scheduled"))
                        .findFirst()
                        .orElseThrow())))
        .containsExactly("Pending: asked the market for 1 x 4 GPUs of h100-80gb");
    assertThat(job.getStatus().pricePerGpuHour).isEqualTo("2.10");
    assertThat(job.getStatus().offer.toString()).isEqualTo("bolt/h100");
    GpuLease lease = fleet.getLease("team-a", job.getStatus().lease);
    assertThat(lease.getStatus().phase).isEqualTo(LeasePhase.Active);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(fleet.getNode("dc-bolt-1").getStatus().leasedGpus).isEqualTo(4);
              assertThat(fleet.getOffer("bolt", "h100").getStatus().availableGpus).isEqualTo(4);
              assertThat(fleet.quotaGpus("team-a")).isEqualTo("4");
            });

    fleet.setPodPhases("team-a", "train", "Running");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(fleet.getJob("team-a", "train").getStatus().phase)
                    .isEqualTo(JobPhase.Running));

    fleet.setPodPhases("team-a", "train", "Succeeded");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              ComputeJob done = fleet.getJob("team-a", "train");
              assertThat(done.getStatus().phase).isEqualTo(JobPhase.Succeeded);
              assertThat(fleet.getLease("team-a", done.getStatus().lease).getStatus().phase)
                  .isEqualTo(LeasePhase.Released);
              assertThat(fleet.getNode("dc-bolt-1").getStatus().leasedGpus).isZero();
              assertThat(done.getStatus().cost).isNotNull();
            });
    // Events tell the story, with reasons from a fixed set.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(cluster.client.v1().events().inNamespace("team-a").list().getItems())
                    .filteredOn(e -> "train".equals(e.getInvolvedObject().getName()))
                    .extracting(e -> e.getReason())
                    .contains("PodsCreated", "JobRunning", "JobSucceeded")
                    .allSatisfy(r -> assertThat(EventReason.valueOf(r)).isNotNull()));
    // The job's PodsCreated event names its lease and price, so its lease needs no event of its
    // own.
    var events = cluster.client.v1().events().inNamespace("team-a").list().getItems();
    String leaseName = fleet.getJob("team-a", "train").getStatus().lease;
    assertThat(events)
        .filteredOn(e -> "PodsCreated".equals(e.getReason()))
        .filteredOn(e -> "train".equals(e.getInvolvedObject().getName()))
        .extracting(e -> e.getMessage())
        .anySatisfy(m -> assertThat(m).contains("GpuLease " + leaseName, "/h)"));
    assertThat(events)
        .filteredOn(e -> leaseName.equals(e.getInvolvedObject().getName()))
        .extracting(e -> e.getReason())
        .doesNotContain("LeaseBound")
        .contains("LeaseReleased");
  }

  @Test
  void aJobNoOfferCanServeWaitsAndSaysWhy() {
    fleet.create(Fleet.job("team-a", "too-cheap", List.of("h100-80gb"), 1, 1, "1.00"));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              ComputeJob job = fleet.getJob("team-a", "too-cheap");
              assertThat(job.getStatus().phase).isEqualTo(JobPhase.Pending);
              assertThat(job.getStatus().message)
                  .isEqualTo(
                      "no h100-80gb offer at or under 1.00 USD/h; cheapest is 2.10 USD/h at bolt/h100");
              assertThat(Conditions.find(job.getStatus().conditions, "Scheduled").get().getReason())
                  .isEqualTo("PriceAboveCap");
            });
    assertThat(fleet.pods("team-a", "too-cheap")).isEmpty();
  }

  /**
   * A waiting job is woken by its lease's bind, not found by a poll of its own: it looks again only
   * every {@link JobRun#WAIT_FOR_BIND}, minutes, so a bind that reached it late would fail here.
   */
  @Test
  void aWaitingJobRunsAsSoonAsAProviderListsWhatItAsked() {
    fleet.create(Fleet.job("team-a", "on-l4", List.of("l4"), 1, 1, "1.00"));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        Conditions.find(
                                fleet.getJob("team-a", "on-l4").getStatus().conditions, "Scheduled")
                            .get()
                            .getReason())
                    .isEqualTo("NoOfferForModel"));
    fleet.gpuNode("edge-acme-l4", "acme", Tier.EDGE, "eu-west", "l4", 1);
    fleet.offer("acme", "l4", "acme", "l4", "0.30");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(fleet.getJob("team-a", "on-l4").getStatus().phase)
                  .isEqualTo(JobPhase.Scheduled);
              assertThat(fleet.pods("team-a", "on-l4")).hasSize(1);
            });
  }

  @Test
  void aLeaseExpiresAtItsEndAndIsBilledForItsTime() {
    GpuLease lease = new GpuLease();
    lease.getMetadata().setName("short");
    lease.getMetadata().setNamespace("team-a");
    lease.setSpec(new GpuLeaseSpec());
    lease.getSpec().models = List.of("rtx-4090");
    lease.getSpec().gpus = 1;
    lease.getSpec().duration = "3s";
    cluster.client.resources(GpuLease.class).resource(lease).create();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(fleet.getLease("team-a", "short").getStatus().phase)
                    .isEqualTo(LeasePhase.Active));
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              GpuLease l = fleet.getLease("team-a", "short");
              assertThat(l.getStatus().phase).isEqualTo(LeasePhase.Expired);
              assertThat(l.getStatus().gpuSeconds).isEqualTo(3);
              assertThat(l.getStatus().cost).isEqualTo("0.0003");
            });
  }
}
