package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.mockwebserver.http.RecordedRequest;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferSpec;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * GpuNodes and GpuLeases are watched once by the controller whose kind they are and once for all
 * the others ({@link SharedInformer}), not once per controller: every watch costs the API server a
 * send of each change and the operator a decode and a cached copy, and every bind changes a node
 * and a lease.
 */
class SharedInformerTest {
  private static final Pattern WATCHED = Pattern.compile("/([a-z]+)\\?.*watch=true");

  @Test
  void nodesAndLeasesAreWatchedTwiceAndEveryControllerHearsOfThem() throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      while (cluster.server.takeRequest(10, TimeUnit.MILLISECONDS) != null) {
        // what the fleet's set-up asked is not the operator's
      }
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        fleet.create(Fleet.job("team-a", "train", List.of("h100-80gb"), 1, 4, "3.00"));

        // The offer hears of the bind on its node, the job of its lease.
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    fleet.getOffer("acme", "h100").getStatus() != null
                        && fleet.getOffer("acme", "h100").getStatus().availableGpus == 4
                        && fleet.getJob("team-a", "train").getStatus() != null
                        && fleet.getJob("team-a", "train").getStatus().phase == JobPhase.Scheduled);
        // The node hears of its lease's end, the offer of the GPUs given back.
        fleet.setPodPhases("team-a", "train", "Succeeded");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    fleet.getNode("dc-1").getStatus().allocations.isEmpty()
                        && fleet.getOffer("acme", "h100").getStatus().availableGpus == 8);

        Map<String, Integer> watches = new TreeMap<>();
        RecordedRequest r;
        while ((r = cluster.server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
          Matcher m = WATCHED.matcher(r.getPath());
          if (m.find()) {
            watches.merge(m.group(1), 1, Integer::sum);
          }
        }
        assertThat(watches).containsEntry("gpunodes", 2).containsEntry("gpuleases", 2);
      }
    }
  }

  @Test
  void aListenerThatFailsKeepsNoEventFromTheOthers() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      MarketCaches caches = new MarketCaches();
      // Ahead of the offers' and jobs' listeners, one whose filter fails on every update.
      var broken =
          caches
              .sharedNodes()
              .<GpuOffer>listen(
                  "broken",
                  null,
                  (now, before) -> {
                    throw new IllegalStateException("a filter that fails");
                  },
                  null,
                  node -> Set.of());
      broken.start();
      try (TestOperator operator = TestOperator.start(cluster.client, caches)) {
        await().atMost(Duration.ofSeconds(20)).until(() -> available(fleet) == 8);
        fleet.create(Fleet.job("team-a", "train", List.of("h100-80gb"), 1, 4, "3.00"));

        // The bind's ledger write is an update of the node: the offer hears of it all the same.
        await().atMost(Duration.ofSeconds(20)).until(() -> available(fleet) == 4);
      }
    }
  }

  private static int available(Fleet fleet) {
    GpuOffer offer = fleet.getOffer("acme", "h100");
    return offer.getStatus() == null || offer.getStatus().availableGpus == null
        ? -1
        : offer.getStatus().availableGpus;
  }

  @Test
  void anOfferReconciledBeforeTheNodesInformerHasListedShowsNothingYetAndLooksAgainSoon() {
    // The lease controller owns the nodes' informer and may start after the offers' controller:
    // counts taken from its empty cache would show a full offer empty until the next event.
    GpuOfferReconciler offers =
        new GpuOfferReconciler(
            new MarketCaches(), new EventRecorder(null), Duration.ofSeconds(10), 10);
    GpuOffer offer = new GpuOffer();
    offer.getMetadata().setName("h100");
    offer.getMetadata().setNamespace("acme");
    offer.setSpec(new GpuOfferSpec());
    offer.getSpec().provider = "acme";
    offer.getSpec().model = "h100-80gb";
    offer.getSpec().pricePerGpuHour = "2.40";

    UpdateControl<GpuOffer> control = offers.reconcile(offer, null);

    assertThat(offer.getStatus()).as("nothing counted, nothing to write").isNull();
    assertThat(control.isNoUpdate()).isTrue();
    assertThat(control.getScheduleDelay())
        .hasValueSatisfying(ms -> assertThat(ms).isLessThan(1000));
  }
}
