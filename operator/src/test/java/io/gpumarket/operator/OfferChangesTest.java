package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpumarket.api.v1alpha1.GpuOffer;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A provider's change to its offer reaches the next bind: the binder reuses its list of offers
 * between binds, until one comes, goes or changes what it sells.
 */
class OfferChangesTest {
  static final String NS = "team";

  @Test
  void theNextJobSeesAnOfferRepricedSuspendedOrAdded() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.cheapAndDearHosts(NS, "1.00", "3.00");
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        assertThat(runsOn(fleet, "first")).isEqualTo("cheap-1");

        edit(cluster, "cheap", o -> o.getSpec().pricePerGpuHour = "4.00");
        assertThat(runsOn(fleet, "after-repricing")).isEqualTo("dear-1");

        edit(cluster, "dear", o -> o.getSpec().suspended = true);
        assertThat(runsOn(fleet, "after-suspension")).isEqualTo("cheap-1");

        fleet.namespace("other", java.util.Map.of());
        fleet.gpuNode(
            "other-1", "other", io.gpumarket.api.v1alpha1.Tier.DATACENTER, "eu", "h100-80gb", 8);
        fleet.offer("other", "h100", "other", "h100-80gb", "0.50");
        assertThat(runsOn(fleet, "after-a-new-offer")).isEqualTo("other-1");
      }
    }
  }

  /** Submits a job of one H100 and returns the host it was bound to. */
  private static String runsOn(Fleet fleet, String name) {
    fleet.create(Fleet.job(NS, name, List.of("h100-80gb"), 1, 1, null));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !fleet.getJob(NS, name).getStatus().nodes.isEmpty());
    return fleet.getJob(NS, name).getStatus().nodes.get(0);
  }

  private static void edit(MockCluster cluster, String namespace, Consumer<GpuOffer> change) {
    cluster
        .client
        .resources(GpuOffer.class)
        .inNamespace(namespace)
        .withName("h100")
        .edit(
            o -> {
              change.accept(o);
              return o;
            });
  }
}
