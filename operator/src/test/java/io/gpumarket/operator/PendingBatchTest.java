package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.NodeAllocation;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.market.Market;
import io.gpumarket.market.MarketTest;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import io.gpumarket.market.Refusal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Leases that wait at the same time are decided together, those with the fewest options first: one
 * that could go anywhere does not take the only host another can use.
 */
class PendingBatchTest {
  static final String NS = "team-a";

  @Test
  void leasesWaitingTogetherAreDecidedFewestOptionsFirstWhicheverReconcilesFirst() {
    Market market = cheapEuDearUs();
    PlacementRequest anywhere = request(Set.of(), 8);
    PlacementRequest euOnly = request(Set.of("eu"), 8);
    PlacementRequest euToo = request(Set.of("eu"), 4);
    Map<String, PendingBatch.Waiting> waiting = new LinkedHashMap<>();
    waiting.put("anywhere", fresh(anywhere));
    waiting.put("eu-only", fresh(euOnly));
    waiting.put("eu-too", fresh(euToo));
    PendingBatch batch = new PendingBatch(Duration.ofSeconds(1), Duration.ofHours(1));
    List<String> woken = new java.util.ArrayList<>();
    long t = 0;

    Placement first =
        (Placement) batch.decide("anywhere", anywhere, market, () -> waiting, woken::addAll, t);
    assertThat(first.gpusByNode()).containsOnlyKeys("us-1");
    assertThat(market.node("us-1").freeGpus()).as("the batch takes nothing itself").isEqualTo(8);
    assertThat(woken).as("the other lease placed, told at once").containsExactly("eu-only");
    market.hold(first);
    Placement second =
        (Placement) batch.decide("eu-only", euOnly, market, () -> waiting, woken::addAll, t + 1);
    assertThat(second.gpusByNode()).containsOnlyKeys("eu-1");
    market.hold(second);
    assertThat(batch.batches()).isEqualTo(1);

    // Refused in the batch: the refusal stands while nothing is given back, even once it is old.
    Refusal refused =
        (Refusal)
            batch.decide("eu-too", euToo, market, () -> waiting, woken::addAll, 5_000_000_000L);
    assertThat(batch.decide("eu-too", euToo, market, () -> waiting, woken::addAll, 6_000_000_000L))
        .isSameAs(refused);
    assertThat(batch.batches()).isEqualTo(1);
    // GPUs given back: decided again, and placed.
    market.release(second);
    waiting.remove("anywhere");
    waiting.remove("eu-only");
    Placement third =
        (Placement)
            batch.decide("eu-too", euToo, market, () -> waiting, woken::addAll, 7_000_000_000L);
    assertThat(third.gpusByNode()).containsOnlyKeys("eu-1");
    assertThat(batch.batches()).isEqualTo(2);
  }

  @Test
  void gpusTheBatchGaveALeaseThatNeverCameForThemGoToTheNextBatch() {
    Market market =
        new Market(
            List.of(node("eu-1", "cheap", "eu", 8)), List.of(offer("cheap", "2.00", "eu-1")));
    PlacementRequest whole = request(Set.of("eu"), 8);
    PlacementRequest half = request(Set.of("eu"), 4);
    Map<String, PendingBatch.Waiting> waiting = new LinkedHashMap<>();
    waiting.put("deleted-before-it-bound", fresh(whole));
    waiting.put("half", fresh(half));
    PendingBatch batch = new PendingBatch(Duration.ofSeconds(1), Duration.ofHours(1));
    List<String> woken = new java.util.ArrayList<>();

    Refusal refused = (Refusal) batch.decide("half", half, market, () -> waiting, woken::addAll, 0);
    assertThat(batch.decide("half", half, market, () -> waiting, woken::addAll, 500_000_000L))
        .isSameAs(refused);
    waiting.remove("deleted-before-it-bound");
    Placement placed =
        (Placement)
            batch.decide("half", half, market, () -> waiting, woken::addAll, 2_000_000_000L);
    assertThat(placed.gpusByNode()).containsEntry("eu-1", 4);
    assertThat(batch.batches()).isEqualTo(2);
  }

  @Test
  void aLeaseTheBatchDidNotKnowWaitsForTheNextOneRatherThanTakeWhatItGaveAnother() {
    Market market =
        new Market(
            List.of(node("eu-1", "cheap", "eu", 8)), List.of(offer("cheap", "2.00", "eu-1")));
    Map<String, PendingBatch.Waiting> waiting = new LinkedHashMap<>();
    waiting.put("first", fresh(request(Set.of("eu"), 8)));
    PendingBatch batch = new PendingBatch(Duration.ofSeconds(1), Duration.ofHours(1));
    List<String> woken = new java.util.ArrayList<>();
    batch.decide("first", request(Set.of("eu"), 8), market, () -> waiting, woken::addAll, 0);

    waiting.put("newcomer", fresh(request(Set.of(), 8)));
    assertThatThrownBy(
            () ->
                batch.decide(
                    "newcomer",
                    request(Set.of(), 8),
                    market,
                    () -> waiting,
                    woken::addAll,
                    300_000_000L))
        .isInstanceOfSatisfying(
            LeaseBinder.Retry.class, r -> assertThat(r.after()).isEqualTo(Duration.ofMillis(700)));
  }

  @Test
  void aLeaseWaitingLongerThanTheMaxWaitGoesAheadOfNewcomersWithFewerOptions() {
    for (Duration maxWait : List.of(Duration.ofSeconds(10), Duration.ofHours(1))) {
      Market market = cheapEuDearUs();
      Placement elsewhere = (Placement) market.place(request(Set.of("us"), 8));
      market.hold(elsewhere);
      Placement blocker = (Placement) market.place(request(Set.of("eu"), 8));
      market.hold(blocker);
      PlacementRequest anywhere = request(Set.of(), 8);
      PlacementRequest euOnly = request(Set.of("eu"), 8);
      Map<String, PendingBatch.Waiting> waiting = new LinkedHashMap<>();
      waiting.put("old", fresh(anywhere));
      PendingBatch batch = new PendingBatch(Duration.ofSeconds(1), maxWait);
      assertThat(batch.decide("old", anywhere, market, () -> waiting, u -> {}, 0))
          .isInstanceOf(Refusal.class);

      // 20 s on, eu-1 comes free as a newcomer that can use only it arrives.
      market.release(blocker);
      waiting.put("newcomer", fresh(euOnly));
      var decision =
          batch.decide("newcomer", euOnly, market, () -> waiting, u -> {}, 20_000_000_000L);
      if (maxWait.getSeconds() == 10) {
        assertThat(decision).as("the old lease went first").isInstanceOf(Refusal.class);
      } else {
        assertThat(((Placement) decision).gpusByNode()).containsOnlyKeys("eu-1");
      }
    }
  }

  @Test
  void aLeaseCreatedLongerAgoThanTheMaxWaitGoesFirstInARestartedOperatorsFirstBatch() {
    for (Duration waitedBefore : List.of(Duration.ofMinutes(20), Duration.ofMinutes(1))) {
      Market market = cheapEuDearUs();
      market.hold((Placement) market.place(request(Set.of("us"), 8)));
      PlacementRequest anywhere = request(Set.of(), 8);
      PlacementRequest euOnly = request(Set.of("eu"), 8);
      Map<String, PendingBatch.Waiting> waiting = new LinkedHashMap<>();
      waiting.put("newcomer", fresh(euOnly));
      waiting.put("old", new PendingBatch.Waiting(anywhere, waitedBefore));
      PendingBatch batch = new PendingBatch(Duration.ofSeconds(1), Duration.ofMinutes(10));

      var decision = batch.decide("newcomer", euOnly, market, () -> waiting, u -> {}, 0);
      if (waitedBefore.toMinutes() == 20) {
        assertThat(decision)
            .as("the lease created 20 minutes ago went first, though this batch is the first")
            .isInstanceOf(Refusal.class);
      } else {
        assertThat(((Placement) decision).gpusByNode()).containsOnlyKeys("eu-1");
      }
    }
  }

  @Test
  void aPendingLeaseHasWaitedSinceItWasCreated() {
    GpuLease lease = new GpuLease();
    lease.getMetadata().setCreationTimestamp("2026-12-06T20:00:00Z");
    assertThat(LeaseBinder.waited(lease, java.time.Instant.parse("2026-12-06T20:12:30Z")))
        .isEqualTo(Duration.ofSeconds(750));
    assertThat(LeaseBinder.waited(lease, java.time.Instant.parse("2026-12-06T19:59:00Z")))
        .as("a clock behind the API server's")
        .isZero();
  }

  /** Two hosts of 8 GPUs: {@code eu-1} sold at 2.00, {@code us-1} at 3.00. */
  private static Market cheapEuDearUs() {
    return new Market(
        List.of(node("eu-1", "cheap", "eu", 8), node("us-1", "dear", "us", 8)),
        List.of(offer("cheap", "2.00", "eu-1"), offer("dear", "3.00", "us-1")));
  }

  static PendingBatch.Waiting fresh(PlacementRequest request) {
    return new PendingBatch.Waiting(request, Duration.ZERO);
  }

  @Test
  void theOperatorBindsLeasesThatWaitedWhileItWasDownAsTheBatchDecides() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace(NS, Map.of("gpumarket.io/tenant", "true"));
      fleet.namespace("cheap", Map.of());
      fleet.namespace("dear", Map.of());
      for (int i = 0; i < 3; i++) {
        fleet.gpuNode("eu-" + i, "cheap", Tier.DATACENTER, "eu", "h100-80gb", 8);
        fleet.gpuNode("us-" + i, "dear", Tier.DATACENTER, "us", "h100-80gb", 8);
      }
      fleet.offer("cheap", "h100", "cheap", "h100-80gb", "2.00");
      fleet.offer("dear", "h100", "dear", "h100-80gb", "3.00");
      fleet.seenByAnOperatorThatStops(8);
      // While the operator is down, the leases that could go anywhere come first.
      for (int i = 0; i < 3; i++) {
        create(cluster, "anywhere-" + i, null);
      }
      for (int i = 0; i < 3; i++) {
        create(cluster, "eu-only-" + i, List.of("eu"));
      }
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () ->
                    assertThat(fleet.leases(NS))
                        .allSatisfy(
                            l ->
                                assertThat(l.getStatus().phase)
                                    .as(l.getMetadata().getName() + ": " + l.getStatus().message)
                                    .isEqualTo(LeasePhase.Active)));
        for (GpuLease l : fleet.leases(NS)) {
          String region = l.getMetadata().getName().startsWith("eu-only") ? "eu-" : "us-";
          assertThat(l.getStatus().allocations)
              .extracting((NodeAllocation a) -> a.gpuNode)
              .allMatch(n -> n.startsWith(region), l.getMetadata().getName());
        }
      }
    }
  }

  @Test
  void anUnknownOrderIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> LeaseBinder.PendingOrder.of("cheapest-first"))
        .hasMessage(
            "gpumarket.market.pending-order must be fewest-options-first or arrival, got"
                + " cheapest-first");
    assertThat(LeaseBinder.PendingOrder.of("arrival")).isEqualTo(LeaseBinder.PendingOrder.ARRIVAL);
  }

  private static void create(MockCluster cluster, String name, List<String> regions) {
    GpuLease lease = new GpuLease();
    lease.getMetadata().setName(name);
    lease.getMetadata().setNamespace(NS);
    GpuLeaseSpec spec = new GpuLeaseSpec();
    spec.models = List.of("h100-80gb");
    spec.regions = regions;
    spec.gpus = 8;
    spec.gpusPerNode = 8;
    lease.setSpec(spec);
    cluster.client.resource(lease).create();
  }

  private static NodeState node(String name, String provider, String region, int gpus) {
    return MarketTest.node(name, provider, Tier.DATACENTER, region, "h100-80gb", gpus);
  }

  private static OfferState offer(String provider, String price, String... nodes) {
    return MarketTest.offer(provider, "h100", provider, "h100-80gb", price, nodes);
  }

  private static PlacementRequest request(Set<String> regions, int gpus) {
    return MarketTest.request(List.of("h100-80gb"), regions, 1, gpus, null);
  }
}
