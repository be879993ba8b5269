package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.NodeAllocation;
import io.gpumarket.api.v1alpha1.Tier;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The operator may run twice, crash or restart at any moment: state is rebuilt from the API server,
 * nothing is duplicated, and no GPU is ever leased twice.
 */
class OperatorRestartTest {
  static final String NS = "tenant";

  @Test
  void twoReplicasAndARestartNeverLeaseAGpuTwiceNorDuplicateAnything() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace(NS, Map.of("gpumarket.io/tenant", "true"));
      fleet.namespace("acme", Map.of());
      fleet.namespace("bolt", Map.of());
      for (int i = 0; i < 4; i++) {
        fleet.gpuNode("h-acme-" + i, "acme", Tier.DATACENTER, "eu", "h100-80gb", 8);
        fleet.gpuNode("h-bolt-" + i, "bolt", Tier.DATACENTER, "us", "h100-80gb", 4);
        fleet.gpuNode("e-acme-" + i, "acme", Tier.EDGE, "eu", "rtx-4090", 1);
      }
      fleet.offer("acme", "h100", "acme", "h100-80gb", "2.40");
      fleet.offer("bolt", "h100", "bolt", "h100-80gb", "2.10");
      fleet.offer("acme", "rtx", "acme", "rtx-4090", "0.40");

      TestOperator a = TestOperator.start(cluster.client);
      TestOperator b = TestOperator.start(cluster.client);
      Random random = new Random(7);
      int jobs = 30;
      for (int i = 0; i < jobs; i++) {
        boolean edge = random.nextInt(4) == 0;
        int per = edge ? 1 : 1 << random.nextInt(4);
        int replicas = 1 + random.nextInt(2);
        fleet.create(
            Fleet.job(
                NS, "job-" + i, List.of(edge ? "rtx-4090" : "h100-80gb"), replicas, per, null));
      }
      awaitSettled(fleet, jobs);
      assertInvariants(fleet, jobs);

      // One replica dies; the other finishes half of the running jobs, then the last restarts.
      a.close();
      List<ComputeJob> running = running(fleet, jobs);
      assertThat(running).isNotEmpty();
      for (int i = 0; i < running.size(); i += 2) {
        fleet.setPodPhases(NS, running.get(i).getMetadata().getName(), "Succeeded");
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                for (int i = 0; i < running.size(); i += 2) {
                  assertThat(
                          fleet
                              .getJob(NS, running.get(i).getMetadata().getName())
                              .getStatus()
                              .phase)
                      .isEqualTo(JobPhase.Succeeded);
                }
              });
      b.close();
      try (TestOperator c = TestOperator.start(cluster.client)) {
        awaitSettled(fleet, jobs);
        assertInvariants(fleet, jobs);
        // Finish everything, round by round, until no job is left waiting.
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(500))
            .untilAsserted(
                () -> {
                  for (ComputeJob j : running(fleet, jobs)) {
                    fleet.setPodPhases(NS, j.getMetadata().getName(), "Succeeded");
                  }
                  for (int i = 0; i < jobs; i++) {
                    assertThat(fleet.getJob(NS, "job-" + i).getStatus().phase)
                        .as("job-" + i + ": " + fleet.getJob(NS, "job-" + i).getStatus().message)
                        .isEqualTo(JobPhase.Succeeded);
                  }
                });
        assertInvariants(fleet, jobs);
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  for (GpuNode n : cluster.client.resources(GpuNode.class).list().getItems()) {
                    assertThat(MarketView.allocations(n)).as(n.getMetadata().getName()).isEmpty();
                  }
                  for (GpuLease l : fleet.leases(NS)) {
                    assertThat(l.getStatus().phase).isEqualTo(LeasePhase.Released);
                    assertThat(l.getStatus().cost).isNotNull();
                  }
                });
      }
    }
  }

  private static List<ComputeJob> running(Fleet fleet, int jobs) {
    return java.util.stream.IntStream.range(0, jobs)
        .mapToObj(i -> fleet.getJob(NS, "job-" + i))
        .filter(j -> j.getStatus() != null && j.getStatus().phase == JobPhase.Scheduled)
        .toList();
  }

  @Test
  void theHoldsOfABindInterruptedBeforeTheLeaseWasWrittenAreAdoptedNotHeldTwice() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.cheapAndDearHosts(NS, "2.00", "3.00");
      fleet.seenByAnOperatorThatStops(8);
      // An operator wrote the ledger of the dearer node for a lease, then stopped before writing
      // the lease's status.
      GpuLease lease = new GpuLease();
      lease.getMetadata().setName("interrupted");
      lease.getMetadata().setNamespace(NS);
      lease.setSpec(new io.gpumarket.api.v1alpha1.GpuLeaseSpec());
      lease.getSpec().models = List.of("h100-80gb");
      lease.getSpec().gpus = 8;
      lease.getSpec().gpusPerNode = 8;
      lease = cluster.client.resource(lease).create();
      GpuNode dear = cluster.client.resources(GpuNode.class).withName("dear-1").get();
      dear.getStatus().allocations =
          List.of(
              new GpuAllocation(
                  new io.gpumarket.api.v1alpha1.ObjectRef(NS, "interrupted"),
                  lease.getMetadata().getUid(),
                  new io.gpumarket.api.v1alpha1.ObjectRef("dear", "h100"),
                  8));
      dear.getStatus().leasedGpus = 8;
      cluster.client.resource(dear).updateStatus();

      try (TestOperator operator = TestOperator.start(cluster.client)) {
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () ->
                    assertThat(fleet.getLease(NS, "interrupted").getStatus().phase)
                        .isEqualTo(LeasePhase.Active));
        assertThat(fleet.getLease(NS, "interrupted").getStatus().allocations)
            .extracting((NodeAllocation a) -> a.gpuNode)
            .as("bound to the GPUs it held, though another node is cheaper")
            .containsExactly("dear-1");
        assertThat(cluster.client.resources(GpuNode.class).withName("cheap-1").get())
            .satisfies(n -> assertThat(n.getStatus().allocations).isEmpty());
      }
    }
  }

  @Test
  void aRestartedOperatorSetsTheTenantsQuotaFromTheLeasesItFindsActive() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.cheapAndDearHosts(NS, "2.00", "3.00");
      try (TestOperator first = TestOperator.start(cluster.client)) {
        fleet.create(Fleet.job(NS, "train", List.of("h100-80gb"), 1, 8, null));
        awaitQuota(fleet, "8");
      }
      // While no operator runs, someone sets the tenant's GPU limit to nothing.
      ResourceQuota quota =
          cluster.client.resourceQuotas().inNamespace(NS).withName(Labels.QUOTA_NAME).get();
      quota.getSpec().getHard().put(QuotaKeeper.HARD_KEY, new Quantity("0"));
      cluster.client.resource(quota).update();

      try (TestOperator second = TestOperator.start(cluster.client)) {
        // The lease stays Active, so nothing but the count after the restart sets it again.
        awaitQuota(fleet, "8");
        assertThat(fleet.getLease(NS, fleet.leases(NS).get(0).getMetadata().getName()))
            .satisfies(l -> assertThat(l.getStatus().phase).isEqualTo(LeasePhase.Active));
      }
    }
  }

  private static void awaitQuota(Fleet fleet, String gpus) {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(fleet.quotaGpus(NS)).isEqualTo(gpus));
  }

  /** Every job is either placed with all its pods, or waits for capacity and says so. */
  private static void awaitSettled(Fleet fleet, int jobs) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              for (int i = 0; i < jobs; i++) {
                ComputeJob j = fleet.getJob(NS, "job-" + i);
                assertThat(j.getStatus()).as(j.getMetadata().getName()).isNotNull();
                switch (j.getStatus().phase) {
                  case Scheduled ->
                      assertThat(fleet.pods(NS, j.getMetadata().getName()))
                          .hasSize(j.getSpec().replicas);
                  case Pending ->
                      assertThat(
                              Conditions.find(j.getStatus().conditions, "Scheduled")
                                  .get()
                                  .getReason())
                          .as(j.getMetadata().getName() + ": " + j.getStatus().message)
                          .isEqualTo("InsufficientCapacity");
                  case Succeeded -> {}
                  default ->
                      throw new AssertionError(
                          j.getMetadata().getName()
                              + " is "
                              + j.getStatus().phase
                              + ": "
                              + j.getStatus().message);
                }
              }
            });
  }

  private static void assertInvariants(Fleet fleet, int jobs) {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              Map<String, GpuNode> nodes = new HashMap<>();
              fleet
                  .client
                  .resources(GpuNode.class)
                  .list()
                  .getItems()
                  .forEach(n -> nodes.put(n.getMetadata().getName(), n));
              Map<String, Integer> usedByActiveLeases = new HashMap<>();
              for (GpuLease lease : fleet.leases(NS)) {
                if (lease.getStatus() == null || lease.getStatus().phase != LeasePhase.Active) {
                  continue;
                }
                for (NodeAllocation a : lease.getStatus().allocations) {
                  usedByActiveLeases.merge(a.gpuNode, a.gpus, Integer::sum);
                  // The ledger holds exactly what the lease's status names.
                  int held =
                      MarketView.allocations(nodes.get(a.gpuNode)).stream()
                          .filter(h -> h.leaseUid.equals(lease.getMetadata().getUid()))
                          .mapToInt(h -> h.gpus)
                          .sum();
                  assertThat(held)
                      .as("ledger of %s for %s", a.gpuNode, lease.getMetadata().getName())
                      .isEqualTo(a.gpus);
                }
              }
              for (GpuNode n : nodes.values()) {
                int ledger = MarketView.allocations(n).stream().mapToInt(GpuAllocation::gpus).sum();
                assertThat(ledger)
                    .as(n.getMetadata().getName())
                    .isLessThanOrEqualTo(n.getSpec().gpus.count);
                assertThat(usedByActiveLeases.getOrDefault(n.getMetadata().getName(), 0))
                    .as("GPUs of %s leased by active leases", n.getMetadata().getName())
                    .isLessThanOrEqualTo(n.getSpec().gpus.count);
                assertThat(n.getStatus().leasedGpus).isEqualTo(ledger);
              }
              for (int i = 0; i < jobs; i++) {
                ComputeJob j = fleet.getJob(NS, "job-" + i);
                long owned =
                    fleet.leases(NS).stream()
                        .filter(
                            l ->
                                l.getMetadata().getLabels() != null
                                    && j.getMetadata()
                                        .getName()
                                        .equals(l.getMetadata().getLabels().get(Labels.JOB)))
                        .count();
                assertThat(owned).as("leases of " + j.getMetadata().getName()).isEqualTo(1);
                if (j.getStatus().phase == JobPhase.Scheduled) {
                  List<Pod> pods = fleet.pods(NS, j.getMetadata().getName());
                  assertThat(pods).hasSize(j.getSpec().replicas);
                  GpuLease lease = fleet.getLease(NS, j.getStatus().lease);
                  Map<String, String> kube = new HashMap<>();
                  lease.getStatus().allocations.forEach(a -> kube.put(a.nodeName, a.gpuNode));
                  for (Pod p : pods) {
                    String pinned =
                        p.getSpec()
                            .getAffinity()
                            .getNodeAffinity()
                            .getRequiredDuringSchedulingIgnoredDuringExecution()
                            .getNodeSelectorTerms()
                            .get(0)
                            .getMatchFields()
                            .get(0)
                            .getValues()
                            .get(0);
                    assertThat(kube)
                        .as("pod %s pinned to a node of its lease", p.getMetadata().getName())
                        .containsKey(pinned);
                  }
                }
              }
            });
  }
}
