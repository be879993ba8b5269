package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.JobPhase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * JOSDK's failsafe reconciles (hourly in the operator, {@link Failsafe}) find a market at rest as
 * they left it: at fleet scale each is a reconcile of one of some 100,000 objects, so one that
 * wrote would turn the failsafe into a stream of writes.
 */
class FailsafeReconcileTest {

  @Test
  void aMarketAtRestIsReconciledByTheFailsafeAndNothingIsWritten() throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.cheapAndDearHosts("team-a", "1.00", "2.00");
      fleet.create(Fleet.job("team-a", "render", List.of("h100-80gb"), 2, 2, "3.00"));
      ReconcileCounts reconciles = ReconcileCounts.byKind();
      try (TestOperator operator =
          TestOperator.start(
              cluster.client,
              o -> o.withMetrics(reconciles),
              TestOperator.Options.TESTS.withFailsafe(Duration.ofSeconds(1)))) {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> fleet.pods("team-a", "render").size() == 2);
        fleet.setPodPhases("team-a", "render", "Succeeded");
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> fleet.getJob("team-a", "render").getStatus().phase == JobPhase.Succeeded);
        // At rest once two looks three seconds apart find every object as it was.
        Map<String, String> atRest = versions(cluster.client);
        for (int tries = 0; tries < 10; tries++) {
          Thread.sleep(3000);
          Map<String, String> now = versions(cluster.client);
          if (now.equals(atRest)) {
            break;
          }
          atRest = now;
        }
        Map<String, Long> before = reconciles.snapshot();

        Thread.sleep(5000);

        // An ended job and its lease, and the offers, ask no reschedule: the failsafe alone wakes
        // them (an active lease or job looks again at its own pace, as GpuNodes do).
        Map<String, Long> after = reconciles.snapshot();
        for (String kind : List.of("ComputeJob", "GpuLease", "GpuOffer")) {
          assertThat(after.getOrDefault(kind, 0L) - before.getOrDefault(kind, 0L))
              .as("failsafe reconciles of the %ss at rest", kind)
              .isGreaterThanOrEqualTo(3);
        }
        assertThat(versions(cluster.client)).as("every object at rest").isEqualTo(atRest);
      }
    }
  }

  /** Every object the operator writes, by kind, namespace and name: its resourceVersion. */
  private static Map<String, String> versions(KubernetesClient client) {
    Map<String, String> out = new TreeMap<>();
    Stream.of(
            client.resources(GpuNode.class).list().getItems(),
            client.resources(GpuOffer.class).inAnyNamespace().list().getItems(),
            client.resources(GpuLease.class).inAnyNamespace().list().getItems(),
            client.resources(ComputeJob.class).inAnyNamespace().list().getItems(),
            client.pods().inAnyNamespace().list().getItems(),
            client.v1().events().inAnyNamespace().list().getItems(),
            client.resourceQuotas().inAnyNamespace().list().getItems())
        .flatMap(List::stream)
        .forEach(
            o ->
                out.put(
                    o.getKind()
                        + " "
                        + o.getMetadata().getNamespace()
                        + "/"
                        + o.getMetadata().getName(),
                    o.getMetadata().getResourceVersion()));
    return out;
  }
}
