package io.gpumarket.market;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.api.v1alpha1.TierRequirement;
import io.gpumarket.market.Refusal.Reason;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Also the fixtures of tests elsewhere that decide on a market of their own. */
public class MarketTest {

  public static NodeState node(
      String name, String provider, Tier tier, String region, String model, int gpus) {
    return new NodeState(
        name, name, provider, tier, region, model, gpus, 0, true, true, false, 1.0);
  }

  public static OfferState offer(
      String ns, String name, String provider, String model, String price, String... nodes) {
    return new OfferState(
        new ObjectRef(ns, name),
        provider,
        model,
        List.of(nodes),
        null,
        0,
        new BigDecimal(price),
        "USD",
        null,
        null,
        tenant -> true,
        false);
  }

  public static PlacementRequest request(
      List<String> models, int blocks, int perBlock, String maxPrice) {
    return request(models, Set.of(), blocks, perBlock, maxPrice);
  }

  /** A request from namespace {@code team-a}, of any tier, in one of {@code regions} (or any). */
  public static PlacementRequest request(
      List<String> models, Set<String> regions, int blocks, int perBlock, String maxPrice) {
    return new PlacementRequest(
        "team-a",
        models,
        TierRequirement.ANY,
        regions,
        null,
        false,
        blocks,
        perBlock,
        maxPrice == null ? null : new BigDecimal(maxPrice),
        "USD",
        null,
        null);
  }

  @Test
  void choosesTheCheapestOfferThatMeetsEveryConstraint() {
    Market market =
        new Market(
            List.of(
                node("dc-1", "acme", Tier.DATACENTER, "eu-west", "h100-80gb", 8),
                node("dc-2", "bolt", Tier.DATACENTER, "us-east", "h100-80gb", 8),
                node("edge-1", "cheap", Tier.EDGE, "eu-west", "h100-80gb", 1)),
            List.of(
                offer("acme", "h100", "acme", "h100-80gb", "2.40", "dc-1"),
                offer("bolt", "h100", "bolt", "h100-80gb", "2.10", "dc-2"),
                offer("cheap", "h100", "cheap", "h100-80gb", "1.00", "edge-1")));

    Decision d = market.place(request(List.of("h100-80gb"), 1, 4, "3.00"));

    assertThat(d).isInstanceOf(Placement.class);
    Placement p = (Placement) d;
    assertThat(p.offer().id()).isEqualTo(new ObjectRef("bolt", "h100"));
    assertThat(p.gpusByNode()).containsExactly(Map.entry("dc-2", 4));
  }

  @Test
  void aBatchDecidedFewestOptionsFirstPlacesWhatArrivalOrderLeavesOut() {
    List<NodeState> nodes =
        List.of(
            node("eu-1", "cheap", Tier.DATACENTER, "eu", "h100-80gb", 8),
            node("us-1", "dear", Tier.DATACENTER, "us", "h100-80gb", 8),
            node("us-2", "dear", Tier.DATACENTER, "us", "h100-80gb", 4));
    List<OfferState> offers =
        List.of(
            offer("cheap", "h100", "cheap", "h100-80gb", "2.00", "eu-1"),
            offer("dear", "h100", "dear", "h100-80gb", "3.00", "us-1", "us-2"));
    PlacementRequest anywhere = request(List.of("h100-80gb"), 1, 8, null);
    PlacementRequest euOnly = request(List.of("h100-80gb"), Set.of("eu"), 1, 8, null);
    List<PlacementRequest> batch = List.of(anywhere, euOnly);

    Market inArrivalOrder = new Market(nodes, offers);
    Placement first = (Placement) inArrivalOrder.place(anywhere);
    inArrivalOrder.hold(first);
    assertThat(first.gpusByNode()).containsOnlyKeys("eu-1");
    assertThat(inArrivalOrder.place(euOnly)).isInstanceOf(Refusal.class);

    Market market = new Market(nodes, offers);
    // Whole blocks of 8 on nodes each may use, whatever is held.
    assertThat(market.reach(anywhere)).isEqualTo(16);
    assertThat(market.reach(euOnly)).isEqualTo(8);
    assertThat(market.reach(request(List.of("h100-80gb"), 1, 8, "2.50"))).isEqualTo(8);
    assertThat(market.reach(request(List.of("a100-80gb"), 1, 1, null))).isZero();
    // Only offers with room for the whole gang on a free fleet count: no one offer has two blocks
    // of 8, and each has two of 4.
    assertThat(market.reach(request(List.of("h100-80gb"), 2, 8, null))).isZero();
    assertThat(market.reach(request(List.of("h100-80gb"), 2, 4, null))).isEqualTo(20);
    List<Decision> decisions =
        market.placeBatch(batch, batch.stream().mapToInt(market::reach).toArray());
    assertThat(((Placement) decisions.get(0)).gpusByNode()).containsOnlyKeys("us-1");
    assertThat(((Placement) decisions.get(1)).gpusByNode()).containsOnlyKeys("eu-1");
    assertThat(market.node("eu-1").freeGpus()).as("each placement held").isZero();
    assertThat(market.reach(euOnly)).isEqualTo(8);

    // A placement decided earlier fits while its GPUs are free and its offer and nodes still meet
    // the request.
    Market later = new Market(nodes, offers);
    Placement planned = (Placement) decisions.get(1);
    assertThat(later.fits(planned, euOnly)).isTrue();
    assertThat(later.fits(planned, request(List.of("h100-80gb"), 1, 8, "1.50"))).isFalse();
    assertThat(later.fits(planned, request(List.of("h100-80gb"), 2, 4, null))).isFalse();
    later.hold(first);
    assertThat(later.fits(planned, euOnly)).isFalse();
  }

  @Test
  void refusesAboveThePriceCapNamingTheCheapestOffer() {
    Market market =
        new Market(
            List.of(node("dc-1", "acme", Tier.DATACENTER, "eu", "h100-80gb", 8)),
            List.of(
                offer("acme", "h100", "acme", "h100-80gb", "2.40", "dc-1"),
                offer("acme", "h100-premium", "acme", "h100-80gb", "3.10", "dc-1")));

    Refusal r = (Refusal) market.place(request(List.of("h100-80gb"), 1, 1, "2.00"));

    assertThat(r.reason()).isEqualTo(Reason.PriceAboveCap);
    assertThat(r.message())
        .isEqualTo(
            "no h100-80gb offer at or under 2.00 USD/h; cheapest is 2.40 USD/h at acme/h100");
  }

  @Test
  void prefersEarlierModelsAtEqualPriceThenHigherUptimeThenTightestFit() {
    NodeState a = node("a", "p", Tier.DATACENTER, "r", "a100-80gb", 8);
    NodeState h = node("h", "p", Tier.DATACENTER, "r", "h100-80gb", 8);
    Market market =
        new Market(
            List.of(a, h),
            List.of(
                offer("p", "a100", "p", "a100-80gb", "2.00", "a"),
                offer("p", "h100", "p", "h100-80gb", "2.00", "h")));
    Placement p = (Placement) market.place(request(List.of("h100-80gb", "a100-80gb"), 1, 1, null));
    assertThat(p.model()).isEqualTo("h100-80gb");

    NodeState flaky =
        new NodeState("f", "f", "p", Tier.EDGE, "r", "rtx-4090", 1, 0, true, true, false, 0.90);
    NodeState steady =
        new NodeState("s", "s", "p", Tier.EDGE, "r", "rtx-4090", 2, 0, true, true, false, 0.99);
    market =
        new Market(
            List.of(flaky, steady),
            List.of(
                offer("p", "flaky", "p", "rtx-4090", "0.40", "f"),
                offer("p", "steady", "p", "rtx-4090", "0.40", "s")));
    p = (Placement) market.place(request(List.of("rtx-4090"), 1, 1, null));
    assertThat(p.offer().id().name).isEqualTo("steady");

    // Same offer, two nodes: the block goes to the smaller free block, keeping the 8 whole.
    NodeState big = node("big", "p", Tier.DATACENTER, "r", "l4", 8);
    NodeState small = node("small", "p", Tier.DATACENTER, "r", "l4", 2);
    market =
        new Market(
            List.of(big, small), List.of(offer("p", "l4", "p", "l4", "0.50", "big", "small")));
    p = (Placement) market.place(request(List.of("l4"), 1, 2, null));
    assertThat(p.blockNodes()).containsExactly("small");
  }

  @Test
  void aSmallJobLeavesAWholeHostForTheNextLargeOneAtEqualPrice() {
    // Two offers at one price and uptime; the one on the 8-GPU host comes first by name, yet the
    // 4-GPU job goes to the 4-GPU host, so the 8-GPU job after it still finds a whole host.
    Market market =
        new Market(
            List.of(
                node("big", "a", Tier.DATACENTER, "r", "h100-80gb", 8),
                node("small", "b", Tier.DATACENTER, "r", "h100-80gb", 4)),
            List.of(
                offer("a", "h100", "a", "h100-80gb", "2.00", "big"),
                offer("b", "h100", "b", "h100-80gb", "2.00", "small")));

    Placement first = (Placement) market.place(request(List.of("h100-80gb"), 1, 4, null));
    assertThat(first.blockNodes()).containsExactly("small");
    market.hold(first);
    Placement second = (Placement) market.place(request(List.of("h100-80gb"), 1, 8, null));
    assertThat(second.blockNodes()).containsExactly("big");
  }

  @Test
  void placesAGangWholeOrNotAtAll() {
    Market market =
        new Market(
            List.of(
                node("n1", "p", Tier.DATACENTER, "r", "h100-80gb", 8),
                node("n2", "p", Tier.DATACENTER, "r", "h100-80gb", 8).withHeld(4)),
            List.of(offer("p", "o", "p", "h100-80gb", "2", "n1", "n2")));

    Placement p = (Placement) market.place(request(List.of("h100-80gb"), 3, 4, null));
    assertThat(p.gpusByNode()).containsExactly(Map.entry("n1", 8), Map.entry("n2", 4));

    Refusal r = (Refusal) market.place(request(List.of("h100-80gb"), 2, 8, null));
    assertThat(r.reason()).isEqualTo(Reason.InsufficientCapacity);
    assertThat(r.message())
        .contains("2 x 8 GPUs")
        .contains("p/o has room for 1 of 2 blocks of 8 (largest free block 8, 12 GPUs free)");
  }

  @Test
  void explainsEachConstraintThatRulesOutAnOffer() {
    NodeState eu = node("eu", "p", Tier.EDGE, "eu-west", "rtx-4090", 2);
    NodeState down =
        new NodeState(
            "down", "down", "p", Tier.EDGE, "eu-west", "rtx-4090", 2, 0, false, true, false, 1.0);
    NodeState foreign = node("foreign", "other", Tier.EDGE, "eu-west", "rtx-4090", 2);
    OfferState o = offer("p", "o", "p", "rtx-4090", "0.30", "eu", "down", "foreign");
    Market market = new Market(List.of(eu, down, foreign), List.of(o));

    PlacementRequest usOnly =
        new PlacementRequest(
            "team-a",
            List.of("rtx-4090"),
            TierRequirement.ANY,
            Set.of("us-east"),
            null,
            false,
            1,
            1,
            null,
            "USD",
            null,
            null);
    Refusal r = (Refusal) market.place(usOnly);
    assertThat(r.reason()).isEqualTo(Reason.NoQualifyingNode);
    assertThat(r.message())
        .contains("1 node in region eu-west, not us-east")
        .contains("1 node not ready")
        .contains("1 node owned by provider other, not p");

    PlacementRequest datacenter =
        new PlacementRequest(
            "team-a",
            List.of("rtx-4090"),
            TierRequirement.DATACENTER,
            Set.of(),
            0.99,
            false,
            1,
            1,
            null,
            "USD",
            null,
            null);
    assertThat(((Refusal) market.place(datacenter)).message())
        .contains("in tier edge, not datacenter");

    PlacementRequest euros =
        new PlacementRequest(
            "team-a",
            List.of("rtx-4090"),
            TierRequirement.ANY,
            Set.of(),
            null,
            false,
            1,
            1,
            null,
            "EUR",
            null,
            null);
    Refusal r2 = (Refusal) market.place(euros);
    assertThat(r2.reason()).isEqualTo(Reason.CurrencyMismatch);
    assertThat(r2.message()).isEqualTo("no rtx-4090 offer is priced in EUR; p/o is priced in USD");

    Refusal none = (Refusal) market.place(request(List.of("h100-80gb"), 1, 1, null));
    assertThat(none.reason()).isEqualTo(Reason.NoOfferForModel);
    assertThat(none.message()).isEqualTo("no offer sells h100-80gb");
  }

  @Test
  void honoursTenantsSuspensionLeaseLimitsAndTheOfferCap() {
    NodeState n = node("n", "p", Tier.DATACENTER, "r", "l40s", 8);
    OfferState onlyTeamB =
        new OfferState(
            new ObjectRef("p", "o"),
            "p",
            "l40s",
            List.of("n"),
            null,
            0,
            new BigDecimal("1"),
            "USD",
            Duration.ofHours(1),
            Duration.ofHours(24),
            "team-b"::equals,
            false);
    Market market = new Market(List.of(n), List.of(onlyTeamB));
    Refusal r = (Refusal) market.place(request(List.of("l40s"), 1, 1, null));
    assertThat(r.reason()).isEqualTo(Reason.TenantNotAdmitted);
    assertThat(r.message()).contains("admits namespace team-a");

    PlacementRequest tooLong =
        new PlacementRequest(
            "team-b",
            List.of("l40s"),
            TierRequirement.ANY,
            Set.of(),
            null,
            false,
            1,
            1,
            null,
            "USD",
            Duration.ofHours(72),
            null);
    Refusal r2 = (Refusal) market.place(tooLong);
    assertThat(r2.reason()).isEqualTo(Reason.LeaseDurationOutOfRange);
    assertThat(r2.message()).contains("72h").contains("p/o leases for at most 24h");

    OfferState suspended =
        new OfferState(
            new ObjectRef("p", "o"),
            "p",
            "l40s",
            List.of("n"),
            null,
            0,
            BigDecimal.ONE,
            "USD",
            null,
            null,
            t -> true,
            true);
    assertThat(
            ((Refusal)
                    new Market(List.of(n), List.of(suspended))
                        .place(request(List.of("l40s"), 1, 1, null)))
                .reason())
        .isEqualTo(Reason.OfferSuspended);

    OfferState capped =
        new OfferState(
            new ObjectRef("p", "o"),
            "p",
            "l40s",
            List.of("n"),
            4,
            2,
            BigDecimal.ONE,
            "USD",
            null,
            null,
            t -> true,
            false);
    Refusal r3 =
        (Refusal)
            new Market(List.of(n), List.of(capped)).place(request(List.of("l40s"), 1, 4, null));
    assertThat(r3.message()).contains("capped at 4 by the offer");
  }

  @Test
  void aNamedOfferIsUsedOrExplained() {
    NodeState n = node("n", "p", Tier.DATACENTER, "r", "t4", 4);
    Market market =
        new Market(
            List.of(n),
            List.of(
                offer("p", "cheap", "p", "t4", "0.10", "n"),
                offer("p", "dear", "p", "t4", "0.90", "n")));
    PlacementRequest named =
        new PlacementRequest(
            "team-a",
            List.of("t4"),
            TierRequirement.ANY,
            Set.of(),
            null,
            false,
            1,
            1,
            null,
            "USD",
            null,
            new ObjectRef("p", "dear"));
    assertThat(((Placement) market.place(named)).offer().id().name).isEqualTo("dear");

    PlacementRequest missing =
        new PlacementRequest(
            "team-a",
            List.of("t4"),
            TierRequirement.ANY,
            Set.of(),
            null,
            false,
            1,
            1,
            null,
            "USD",
            null,
            new ObjectRef("p", "gone"));
    Refusal r = (Refusal) market.place(missing);
    assertThat(r.reason()).isEqualTo(Reason.NoSuchOffer);
    assertThat(r.message()).isEqualTo("offer p/gone does not exist");
  }

  /**
   * The over-commit invariant: whatever is asked, in whatever order, no node is given more GPUs
   * than its healthy ones and no offer more than its cap.
   */
  @Test
  void neverOvercommitsANodeUnderManyRandomRequests() {
    Random random = new Random(42);
    String[] models = {"h100-80gb", "a100-40gb", "rtx-4090", "l4"};
    Map<String, NodeState> nodes = new HashMap<>();
    List<OfferState> offers = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String model = models[i % models.length];
      String provider = "p" + (i % 5);
      int gpus = 1 << random.nextInt(4);
      nodes.put(
          "n" + i,
          node(
              "n" + i,
              provider,
              i % 3 == 0 ? Tier.EDGE : Tier.DATACENTER,
              "r" + (i % 2),
              model,
              gpus));
    }
    for (int i = 0; i < 40; i++) {
      String provider = "p" + (i % 5);
      String model = models[random.nextInt(models.length)];
      List<String> selected = new ArrayList<>();
      for (NodeState n : nodes.values()) {
        if (random.nextInt(3) == 0) {
          selected.add(n.name()); // some of another provider or model: the market must skip them
        }
      }
      Integer cap = random.nextBoolean() ? null : 1 + random.nextInt(16);
      offers.add(
          new OfferState(
              new ObjectRef(provider, "o" + i),
              provider,
              model,
              selected,
              cap,
              0,
              BigDecimal.valueOf(10 + random.nextInt(300), 2),
              "USD",
              null,
              null,
              t -> true,
              false));
    }
    int placed = 0;
    for (int i = 0; i < 2000; i++) {
      int perBlock = 1 << random.nextInt(4);
      PlacementRequest req =
          new PlacementRequest(
              "t",
              List.of(models[random.nextInt(models.length)]),
              TierRequirement.ANY,
              Set.of(),
              null,
              false,
              1 + random.nextInt(3),
              perBlock,
              null,
              "USD",
              null,
              null);
      Decision d = new Market(nodes.values(), offers).place(req);
      if (d instanceof Placement p) {
        placed++;
        for (var e : p.gpusByNode().entrySet()) {
          NodeState n = nodes.get(e.getKey());
          assertThat(n.provider()).isEqualTo(p.offer().provider());
          assertThat(n.model()).isEqualTo(p.offer().model());
          nodes.put(n.name(), n.withHeld(n.heldGpus() + e.getValue()));
        }
        int idx = offers.indexOf(p.offer());
        offers.set(idx, p.offer().withLeased(p.offer().leasedGpus() + req.totalGpus()));
      } else if (random.nextInt(4) == 0 && !nodes.isEmpty()) {
        // Leases end now and then, so the market keeps turning over.
        String name = "n" + random.nextInt(60);
        nodes.put(name, nodes.get(name).withHeld(0));
        offers.replaceAll(o -> o.withLeased(0));
      }
      for (NodeState n : nodes.values()) {
        assertThat(n.heldGpus()).as(n.name()).isLessThanOrEqualTo(n.healthyGpus());
      }
      for (OfferState o : offers) {
        if (o.gpuCap() != null) {
          assertThat(o.leasedGpus()).as(o.id().toString()).isLessThanOrEqualTo(o.gpuCap());
        }
      }
    }
    assertThat(placed).as("the random market must place a good share").isGreaterThan(200);
  }

  @Test
  void anAdvancedSnapshotDecidesAsAFreshMarketAndAsAFullScan() {
    Random random = new Random(7);
    String[] models = {"h100-80gb", "a100-40gb", "rtx-4090", "l4"};
    Map<String, NodeState> nodes = new java.util.TreeMap<>();
    for (int i = 0; i < 50; i++) {
      NodeState n =
          new NodeState(
              "n" + i,
              "n" + i,
              "p" + (i % 4),
              i % 3 == 0 ? Tier.EDGE : Tier.DATACENTER,
              "r" + (i % 3),
              models[i % models.length],
              1 << random.nextInt(4),
              0,
              random.nextInt(10) > 0,
              random.nextInt(10) > 0,
              random.nextBoolean(),
              random.nextBoolean() ? null : random.nextDouble());
      nodes.put(n.name(), n);
    }
    List<OfferState> offers = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String provider = "p" + (i % 4);
      List<String> selected = new ArrayList<>();
      for (NodeState n : nodes.values()) {
        if (random.nextInt(4) == 0) {
          selected.add(n.name());
        }
      }
      offers.add(
          new OfferState(
              new ObjectRef(provider, "o" + i),
              provider,
              models[random.nextInt(models.length)],
              selected,
              random.nextBoolean() ? null : 1 + random.nextInt(16),
              0,
              BigDecimal.valueOf(100 + 10 * random.nextInt(10), 2),
              random.nextInt(20) == 0 ? "EUR" : "USD",
              null,
              random.nextInt(10) == 0 ? Duration.ofHours(1) : null,
              t -> !t.equals("shut-out"),
              random.nextInt(20) == 0));
    }
    Market advanced = new Market(nodes.values(), offers);
    List<Placement> held = new ArrayList<>();
    int placed = 0;
    for (int i = 0; i < 3000; i++) {
      if (!held.isEmpty() && random.nextInt(3) == 0) {
        advanced.release(held.remove(random.nextInt(held.size())));
      }
      PlacementRequest req =
          new PlacementRequest(
              random.nextInt(30) == 0 ? "shut-out" : "t",
              random.nextBoolean()
                  ? List.of(models[random.nextInt(models.length)])
                  : List.of(models[random.nextInt(models.length)], models[random.nextInt(4)]),
              TierRequirement.values()[random.nextInt(3)],
              random.nextBoolean() ? Set.of() : Set.of("r" + random.nextInt(3)),
              random.nextBoolean() ? null : 0.5,
              random.nextInt(5) == 0,
              1 + random.nextInt(3),
              1 << random.nextInt(4),
              random.nextBoolean() ? null : BigDecimal.valueOf(100 + 10 * random.nextInt(10), 2),
              "USD",
              random.nextInt(10) == 0 ? Duration.ofHours(2) : null,
              null);
      List<NodeState> now = new ArrayList<>();
      nodes.keySet().forEach(name -> now.add(advanced.node(name)));
      List<OfferState> leased = new ArrayList<>();
      for (OfferState o : offers) {
        int gpus = 0;
        for (Placement p : held) {
          if (p.offer().id().equals(o.id())) {
            gpus += p.blockNodes().size() * p.gpusPerBlock();
          }
        }
        leased.add(o.withLeased(gpus));
      }
      Market fresh = new Market(now, leased);
      Decision d = advanced.place(req);
      assertThat(describe(d)).isEqualTo(describe(fresh.place(req)));
      assertThat(describe(d)).isEqualTo(describe(fresh.decide(req)));
      if (d instanceof Placement p) {
        advanced.hold(p);
        held.add(p);
        placed++;
      }
    }
    assertThat(placed).isGreaterThan(300);
  }

  /**
   * A market kept for a long time sees nodes change (health, uptime, owner, tier, region), offers
   * come, change and go, and leases start and end: after each change it decides as a market built
   * afresh from the same states, in another order, and as a full scan.
   */
  @Test
  void aMarketKeptUpToDateDecidesAsOneBuiltAfresh() {
    Random random = new Random(11);
    String[] models = {"h100-80gb", "l40s", "rtx-4090"};
    List<java.util.function.Predicate<String>> policies =
        List.of(t -> true, t -> !t.equals("shut-out"), "t"::equals);
    Map<String, NodeState> nodes = new java.util.TreeMap<>();
    for (int i = 0; i < 40; i++) {
      nodes.put("n" + i, randomNode("n" + i, random, models));
    }
    Map<ObjectRef, OfferState> offers = new java.util.LinkedHashMap<>();
    for (int i = 0; i < 30; i++) {
      OfferState o = randomOffer("o" + i, random, models, nodes.keySet(), policies);
      offers.put(o.id(), o);
    }
    Market kept = new Market(nodes.values(), List.copyOf(offers.values()));
    List<Placement> held = new ArrayList<>();
    int placed = 0;
    for (int step = 0; step < 3000; step++) {
      switch (random.nextInt(8)) {
        case 0 -> {
          String name = "n" + random.nextInt(40);
          NodeState now = randomNode(name, random, models);
          NodeState changed = now.withHeld(nodes.get(name).heldGpus());
          nodes.put(name, changed);
          assertThat(kept.updateNode(changed)).isTrue();
        }
        case 1 -> {
          ObjectRef id = new ObjectRef("p" + random.nextInt(3), "o" + random.nextInt(40));
          OfferState before = offers.get(id);
          OfferState o =
              randomOffer(id.name, random, models, nodes.keySet(), policies)
                  .withLeased(before == null ? 0 : before.leasedGpus());
          o = copy(o, id, random.nextBoolean() && before != null ? before.nodes() : o.nodes());
          offers.put(id, o);
          kept.putOffer(o);
        }
        case 2 -> {
          if (!offers.isEmpty()) {
            ObjectRef id = new ArrayList<>(offers.keySet()).get(random.nextInt(offers.size()));
            offers.remove(id);
            kept.removeOffer(id);
          }
        }
        case 3 -> {
          if (!held.isEmpty()) {
            Placement p = held.remove(random.nextInt(held.size()));
            kept.release(p);
            account(p, -1, nodes, offers);
          }
        }
        default -> {
          PlacementRequest req = randomRequest(random, models);
          List<NodeState> shuffledNodes = new ArrayList<>(nodes.values());
          java.util.Collections.shuffle(shuffledNodes, random);
          List<OfferState> shuffledOffers = new ArrayList<>(offers.values());
          java.util.Collections.shuffle(shuffledOffers, random);
          Market fresh = new Market(shuffledNodes, shuffledOffers);
          Decision d = kept.place(req);
          assertThat(describe(d)).as("step %d", step).isEqualTo(describe(fresh.place(req)));
          assertThat(describe(d)).as("step %d", step).isEqualTo(describe(kept.decide(req)));
          if (d instanceof Placement p) {
            kept.hold(p);
            account(p, 1, nodes, offers);
            held.add(p);
            placed++;
          }
        }
      }
      for (NodeState n : nodes.values()) {
        assertThat(kept.node(n.name())).isEqualTo(n);
      }
      for (OfferState o : offers.values()) {
        assertThat(kept.offer(o.id())).isEqualTo(o);
      }
    }
    assertThat(placed).isGreaterThan(100);
  }

  private static void account(
      Placement p, int sign, Map<String, NodeState> nodes, Map<ObjectRef, OfferState> offers) {
    p.gpusByNode()
        .forEach(
            (name, gpus) -> {
              NodeState n = nodes.get(name);
              nodes.put(name, n.withHeld(n.heldGpus() + sign * gpus));
            });
    OfferState o = offers.get(p.offer().id());
    if (o != null) {
      offers.put(
          o.id(), o.withLeased(o.leasedGpus() + sign * p.blockNodes().size() * p.gpusPerBlock()));
    }
  }

  private static NodeState randomNode(String name, Random random, String[] models) {
    return new NodeState(
        name,
        name,
        "p" + random.nextInt(3),
        random.nextBoolean() ? Tier.EDGE : Tier.DATACENTER,
        "r" + random.nextInt(3),
        models[random.nextInt(models.length)],
        1 << random.nextInt(4),
        0,
        random.nextInt(8) > 0,
        random.nextInt(8) > 0,
        random.nextBoolean(),
        random.nextInt(4) == 0 ? null : 0.9 + 0.1 * random.nextDouble());
  }

  private static OfferState randomOffer(
      String name,
      Random random,
      String[] models,
      java.util.Collection<String> nodeNames,
      List<java.util.function.Predicate<String>> policies) {
    String provider = "p" + random.nextInt(3);
    List<String> selected = new ArrayList<>();
    for (String n : nodeNames) {
      if (random.nextInt(5) == 0) {
        selected.add(n);
      }
    }
    if (random.nextInt(10) == 0) {
      selected.add("gone");
    }
    return new OfferState(
        new ObjectRef(provider, name),
        provider,
        models[random.nextInt(models.length)],
        selected,
        random.nextBoolean() ? null : 1 + random.nextInt(16),
        0,
        BigDecimal.valueOf(100 + 10 * random.nextInt(6), 2),
        random.nextInt(15) == 0 ? "EUR" : "USD",
        random.nextInt(8) == 0 ? Duration.ofHours(2) : null,
        random.nextInt(8) == 0 ? Duration.ofHours(24) : null,
        random.nextInt(5) == 0 ? notOnly("u" + random.nextInt(3)) : policies.get(random.nextInt(3)),
        random.nextInt(15) == 0);
  }

  /** A policy object of its own each time, as an offer's own selector makes: they pile up. */
  private static java.util.function.Predicate<String> notOnly(String tenant) {
    return t -> !t.equals(tenant);
  }

  private static OfferState copy(OfferState o, ObjectRef id, List<String> nodes) {
    return new OfferState(
        id,
        o.provider(),
        o.model(),
        nodes,
        o.gpuCap(),
        o.leasedGpus(),
        o.price(),
        o.currency(),
        o.minLease(),
        o.maxLease(),
        o.admitsTenant(),
        o.suspended());
  }

  private static PlacementRequest randomRequest(Random random, String[] models) {
    return new PlacementRequest(
        random.nextInt(20) == 0 ? "shut-out" : random.nextBoolean() ? "t" : "u",
        random.nextBoolean()
            ? List.of(models[random.nextInt(models.length)])
            : List.of(models[random.nextInt(models.length)], models[random.nextInt(3)]),
        TierRequirement.values()[random.nextInt(3)],
        random.nextInt(3) == 0 ? Set.of("r" + random.nextInt(3)) : Set.of(),
        random.nextInt(4) == 0 ? 0.95 : null,
        random.nextInt(6) == 0,
        1 + random.nextInt(3),
        1 << random.nextInt(3),
        random.nextBoolean() ? null : BigDecimal.valueOf(100 + 10 * random.nextInt(6), 2),
        random.nextInt(10) == 0 ? "EUR" : "USD",
        random.nextInt(5) == 0 ? Duration.ofHours(random.nextBoolean() ? 1 : 48) : null,
        null);
  }

  private static String describe(Decision d) {
    return d instanceof Placement p
        ? p.offer().id() + " " + p.blockNodes() + " x" + p.gpusPerBlock()
        : ((Refusal) d).reason() + ": " + ((Refusal) d).message();
  }
}
