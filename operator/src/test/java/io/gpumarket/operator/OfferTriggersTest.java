package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.Tier;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A GpuNode's change reaches the offers that name, select or sold it, and no other offer of its
 * provider: at fleet scale a provider has thousands of offers, and every bind changes a node.
 */
class OfferTriggersTest {

  /** Reconciles of each offer, by name. */
  private static ReconcileCounts offerReconciles() {
    return new ReconcileCounts(r -> r instanceof GpuOffer ? r.getMetadata().getName() : null);
  }

  @Test
  void aBindReconcilesTheOffersSellingItsNodeAndNotTheProvidersOthers() throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      fleet.gpuNode("edge-1", "acme", Tier.EDGE, "eu-west", "l4", 4);
      fleet.offer("acme", "l4", "acme", "l4", "0.50");
      ReconcileCounts reconciles = offerReconciles();
      try (TestOperator operator =
          TestOperator.start(cluster.client, o -> o.withMetrics(reconciles))) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () -> ready(fleet.getOffer("acme", "h100")) && ready(fleet.getOffer("acme", "l4")));
        Thread.sleep(2000);
        long l4Before = reconciles.of("l4");
        long h100Before = reconciles.of("h100");

        fleet.create(Fleet.job("team-a", "train", List.of("h100-80gb"), 1, 4, "3.00"));
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> fleet.pods("team-a", "train").size() == 1);
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> fleet.getOffer("acme", "h100").getStatus().availableGpus == 4);
        Thread.sleep(1000);

        assertThat(reconciles.of("h100")).isGreaterThan(h100Before);
        assertThat(reconciles.of("l4")).as("the other model's offer").isEqualTo(l4Before);
      }
    }
  }

  @Test
  void bindsDuringAnOffersCountsPauseWakeItNoMoreAndItsCountsEndUpRight() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      ReconcileCounts reconciles = offerReconciles();
      try (TestOperator operator =
          TestOperator.start(
              cluster.client,
              o -> o.withMetrics(reconciles),
              TestOperator.Options.TESTS.withOfferCountsInterval(Duration.ofSeconds(6)))) {
        await().atMost(Duration.ofSeconds(20)).until(() -> available(fleet) == 8);
        // A first bind's counts are written at once, and the pause begins.
        fleet.create(Fleet.job("team-a", "first", List.of("h100-80gb"), 1, 1, "3.00"));
        await().atMost(Duration.ofSeconds(20)).until(() -> available(fleet) == 7);
        long before = reconciles.of("h100");

        for (int i = 0; i < 6; i++) {
          fleet.create(Fleet.job("team-a", "j" + i, List.of("h100-80gb"), 1, 1, "3.00"));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> available(fleet) == 1);

        // Six holds written on the node, each an event: the first leaves the counts to the pause's
        // end, the others wake the offer no more, and the pause's end writes them all.
        assertThat(reconciles.of("h100") - before).isBetween(1L, 3L);
      }
    }
  }

  private static int available(Fleet fleet) {
    GpuOffer offer = fleet.getOffer("acme", "h100");
    return ready(offer) ? offer.getStatus().availableGpus : -1;
  }

  @Test
  void anOfferHearsOfANodeThatLeavesItsSelectorAndOfOneThatComesBack() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("acme", Map.of());
      fleet.gpuNode("dc-1", "acme", Tier.DATACENTER, "eu-west", "h100-80gb", 8);
      fleet.offer("acme", "h100", "acme", "h100-80gb", "2.40");
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> List.of("dc-1").equals(fleet.getOffer("acme", "h100").getStatus().nodes));

        relabel(fleet, "dc-1", "gpumarket.io/model", "retired");
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  GpuOffer offer = fleet.getOffer("acme", "h100");
                  assertThat(offer.getStatus().nodes).isEmpty();
                  assertThat(ready(offer)).isFalse();
                });

        relabel(fleet, "dc-1", "gpumarket.io/model", "h100-80gb");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> List.of("dc-1").equals(fleet.getOffer("acme", "h100").getStatus().nodes));
      }
    }
  }

  private static boolean ready(GpuOffer offer) {
    return offer.getStatus() != null && Conditions.isTrue(offer.getStatus().conditions, "Ready");
  }

  private static void relabel(Fleet fleet, String node, String key, String value) {
    fleet
        .client
        .resources(GpuNode.class)
        .withName(node)
        .edit(
            n -> {
              Map<String, String> labels = new HashMap<>(n.getMetadata().getLabels());
              labels.put(key, value);
              n.getMetadata().setLabels(labels);
              return n;
            });
  }
}
