package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeGpus;
import io.gpumarket.api.v1alpha1.GpuNodeSpec;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferSpec;
import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.api.v1alpha1.TierRequirement;
import io.gpumarket.api.v1alpha1.UptimeStatus;
import io.gpumarket.market.Decision;
import io.gpumarket.market.Market;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import io.gpumarket.market.Refusal;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MarketSnapshotTest {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();
  private static final String[] MODELS = {"h100-80gb", "l40s", "rtx-4090"};
  private static final String[] PROVIDERS = {"acme", "bolt", "grid"};

  private final Random random = new Random(5);
  private final Map<String, GpuNode> nodes = new LinkedHashMap<>();
  private final Map<ObjectRef, GpuOffer> offers = new LinkedHashMap<>();
  private final Map<String, Namespace> namespaces = new LinkedHashMap<>();
  private long version = 1;

  /**
   * Ledgers fill and empty, hosts fail and come back, are cordoned, relabelled, added and removed;
   * offers come, change price, cap, tenants and nodes, and go; namespaces change labels. After each
   * change the kept market answers as one built from the same caches.
   */
  @Test
  void keptUpToDateItDecidesAsAMarketBuiltFromTheSameCaches() {
    randomFleet();
    MarketSnapshot snapshot = new MarketSnapshot();
    int structural = 0;
    int steps = 600;
    for (int step = 0; step < steps; step++) {
      structural += randomChange() ? 1 : 0;
      Collection<GpuNode> nodeList = List.copyOf(nodes.values());
      Collection<GpuOffer> offerList = List.copyOf(offers.values());
      Market kept = snapshot.market(nodeList, offerList, namespaces::get);
      Market built = MarketView.market(nodeList, offerList, namespaces::get, null);
      assertAnswerAlike(kept, built, nodeList, offerList, 8, step);
    }
    // Built once at first, then again only when nodes came, went or changed labels or validity.
    assertThat(snapshot.builds()).isBetween(1L, structural + 1L).isLessThan(steps / 5);
  }

  /**
   * Decisions taken and held while their ledger writes are under way: some land node by node, some
   * fail and are forgotten, while everything else changes as above. The kept market answers as one
   * built from the same caches with the GPUs still being written taken.
   */
  @Test
  void holdsUnderWayCountAsTakenUntilTheirWritesLandOrAreForgotten() {
    randomFleet();
    MarketSnapshot snapshot = new MarketSnapshot();
    Map<String, Writing> writing = new LinkedHashMap<>();
    int held = 0;
    int landed = 0;
    int forgotten = 0;
    for (int step = 0; step < 600; step++) {
      int what = random.nextInt(10);
      if (what < 5) {
        randomChange();
      } else if (what < 7 || writing.isEmpty()) {
        Market kept =
            snapshot.market(
                List.copyOf(nodes.values()), List.copyOf(offers.values()), namespaces::get);
        for (int tries = 0; tries < 8; tries++) {
          if (kept.place(randomRequest()) instanceof Placement p) {
            String uid = "w" + version++;
            snapshot.hold(uid, p);
            writing.put(uid, new Writing(p, new java.util.HashSet<>()));
            held++;
            break;
          }
        }
      } else {
        String uid = new ArrayList<>(writing.keySet()).get(random.nextInt(writing.size()));
        Writing w = writing.get(uid);
        if (random.nextInt(4) == 0) {
          snapshot.forget(uid);
          writing.remove(uid);
          forgotten++;
        } else {
          String node =
              w.placement.gpusByNode().keySet().stream()
                  .filter(n -> !w.written.contains(n))
                  .findFirst()
                  .orElseThrow();
          writeHold(uid, w.placement, node);
          w.written.add(node);
          if (w.written.containsAll(w.placement.gpusByNode().keySet())) {
            snapshot.landed(uid);
            writing.remove(uid);
            landed++;
          }
        }
      }
      Collection<GpuNode> nodeList = List.copyOf(nodes.values());
      Collection<GpuOffer> offerList = List.copyOf(offers.values());
      Market kept = snapshot.market(nodeList, offerList, namespaces::get);
      Market built = MarketView.market(nodeList, offerList, namespaces::get, null);
      writing.values().forEach(w -> holdUnwritten(built, w));
      assertAnswerAlike(kept, built, nodeList, offerList, 4, step);
    }
    assertThat(held).isGreaterThan(25);
    assertThat(landed).isGreaterThan(10);
    assertThat(forgotten).isGreaterThan(3);
  }

  /**
   * The two markets hold the same node and offer states and decide {@code requests} random requests
   * alike.
   */
  private void assertAnswerAlike(
      Market kept,
      Market built,
      Collection<GpuNode> nodeList,
      Collection<GpuOffer> offerList,
      int requests,
      int step) {
    for (GpuNode n : nodeList) {
      assertThat(kept.node(name(n))).as("step %d", step).isEqualTo(built.node(name(n)));
    }
    for (GpuOffer o : offerList) {
      ObjectRef id = MarketView.idOf(o);
      assertThat(describe(kept.offer(id))).as("step %d", step).isEqualTo(describe(built.offer(id)));
    }
    for (int r = 0; r < requests; r++) {
      PlacementRequest request = randomRequest();
      assertThat(describe(kept.place(request)))
          .as("step %d", step)
          .isEqualTo(describe(built.place(request)));
    }
  }

  /** A placement held while its writes are under way, and the nodes written so far. */
  private record Writing(Placement placement, Set<String> written) {}

  /** One ledger write of a bind under way: the node's ledger now holds the lease's GPUs. */
  private void writeHold(String uid, Placement p, String node) {
    GpuNode current = nodes.get(node);
    if (current == null) {
      return; // the node went away meanwhile; the write would have failed
    }
    GpuNode n = copy(current);
    n.getStatus()
        .allocations
        .add(
            new GpuAllocation(
                new ObjectRef("t0", "l-" + uid), uid, p.offer().id(), p.gpusByNode().get(node)));
    n.getStatus().leasedGpus =
        n.getStatus().allocations.stream().mapToInt(GpuAllocation::gpus).sum();
    put(n);
  }

  /** Takes in a freshly built market the GPUs of a hold not yet written, on nodes it knows. */
  private static void holdUnwritten(Market built, Writing w) {
    List<String> blocks =
        w.placement.blockNodes().stream()
            .filter(n -> !w.written.contains(n) && built.node(n) != null)
            .toList();
    if (!blocks.isEmpty()) {
      built.hold(
          new Placement(
              w.placement.offer(), w.placement.model(), blocks, w.placement.gpusPerBlock()));
    }
  }

  private void randomFleet() {
    for (int i = 0; i < 4; i++) {
      namespace("t" + i, i % 2 == 0, i == 0);
    }
    for (int i = 0; i < 30; i++) {
      GpuNode n = randomNode("n" + i);
      nodes.put(name(n), n);
    }
    for (int i = 0; i < 24; i++) {
      GpuOffer o = randomOffer(PROVIDERS[i % 3], "o" + i);
      offers.put(MarketView.idOf(o), o);
    }
  }

  /** One random change of the caches; true if it changes which nodes offers may select. */
  private boolean randomChange() {
    int what = random.nextInt(20);
    if (what < 8) {
      changeLedger();
    } else if (what < 10) {
      changeHealth();
    } else if (what < 13) {
      changeOffer();
    } else if (what < 15) {
      touchOfferStatus();
    } else if (what == 15) {
      namespace("t" + random.nextInt(4), random.nextBoolean(), random.nextBoolean());
    } else if (what == 16) {
      relabelOrInvalidate();
      return true;
    } else if (what == 17) {
      addOrRemoveNode();
      return true;
    } else {
      addOrRemoveOffer();
    }
    return false;
  }

  /**
   * Two replicas, each with its own caches and kept market. One binds while the other's caches have
   * not seen it yet: the other's market says the GPUs are free, its ledger write carries the
   * resourceVersion it read and fails with 409, and no GPU is held twice. Once its caches catch up,
   * its market does too.
   */
  @Test
  void aStaleMarketLeadsToAConflictNeverToAGpuLeasedTwice() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("tenant", Map.of("gpumarket.io/tenant", "true"));
      GpuNode host = fleet.gpuNode("h1", "acme", Tier.DATACENTER, "eu", "h100-80gb", 8);
      host.setStatus(status(8, true));
      cluster.client.resources(GpuNode.class).resource(host).updateStatus();
      fleet.offer("acme", "h100", "acme", "h100-80gb", "2.40");
      var metrics = new MarketMetrics(new MarketCaches());
      LeaseBinder a = LeaseBinder.inArrivalOrder(cluster.client, metrics);
      LeaseBinder b = LeaseBinder.inArrivalOrder(cluster.client, metrics);
      ReplicaCaches live = new ReplicaCaches(cluster);
      ReplicaCaches lagging = new ReplicaCaches(cluster);

      // Its own writes reach its caches; the other replica's do not.
      assertThat(b.bind(lease("first"), request(1), lagging)).isInstanceOf(Placement.class);
      assertThat(a.bind(lease("second"), request(7), live.refresh())).isInstanceOf(Placement.class);

      assertThatThrownBy(() -> b.bind(lease("third"), request(4), lagging))
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
      GpuNode ledger = cluster.client.resources(GpuNode.class).withName("h1").get();
      assertThat(ledger.getStatus().allocations)
          .extracting(g -> g.lease.name + "=" + g.gpus)
          .containsExactlyInAnyOrder("first=1", "second=7");

      // The conflict put the server's copy in its caches: the next decision sees the node full.
      Decision again = b.bind(lease("third"), request(4), lagging);
      assertThat(again).isInstanceOf(Refusal.class);
      assertThat(((Refusal) again).message()).contains("has room for 0 of 1 block of 4");
    }
  }

  /** A pending lease in namespace {@code tenant}. */
  static GpuLease lease(String name) {
    GpuLease lease = new GpuLease();
    lease.getMetadata().setNamespace("tenant");
    lease.getMetadata().setName(name);
    lease.getMetadata().setUid("uid-" + name);
    return lease;
  }

  /** A request for one block of this many h100-80gb GPUs from namespace {@code tenant}. */
  static PlacementRequest request(int gpus) {
    return new PlacementRequest(
        "tenant",
        List.of("h100-80gb"),
        TierRequirement.ANY,
        Set.of(),
        null,
        false,
        1,
        gpus,
        null,
        "USD",
        null,
        null);
  }

  private void changeLedger() {
    GpuNode n = copy(pick(nodes));
    List<GpuAllocation> allocations = n.getStatus().allocations;
    if (!allocations.isEmpty() && random.nextBoolean()) {
      allocations.remove(random.nextInt(allocations.size()));
    } else if (!offers.isEmpty()) {
      ObjectRef offer = random.nextInt(8) == 0 ? null : MarketView.idOf(pick(offers));
      allocations.add(
          new GpuAllocation(
              new ObjectRef("t0", "l" + version), "u" + version, offer, 1 + random.nextInt(2)));
    }
    n.getStatus().leasedGpus = allocations.stream().mapToInt(GpuAllocation::gpus).sum();
    put(n);
  }

  private void changeHealth() {
    GpuNode n = copy(pick(nodes));
    switch (random.nextInt(5)) {
      case 0 -> n.getStatus().conditions = List.of(ready(random.nextInt(4) > 0));
      case 1 -> n.getStatus().uptime.ratio24h = random.nextBoolean() ? null : random.nextDouble();
      case 2 -> n.getStatus().allocatableGpus = random.nextInt(9);
      case 3 -> n.getSpec().unschedulable = !n.getSpec().unschedulable;
      default -> n.getSpec().region = "r" + random.nextInt(3);
    }
    put(n);
  }

  private void relabelOrInvalidate() {
    GpuNode n = copy(pick(nodes));
    if (random.nextBoolean()) {
      n.getMetadata().setLabels(Map.of("pool", "p" + random.nextInt(4)));
    } else {
      n.getSpec().provider = n.getSpec().provider == null ? PROVIDERS[random.nextInt(3)] : null;
    }
    put(n);
  }

  private void addOrRemoveNode() {
    if (random.nextBoolean() && nodes.size() > 5) {
      nodes.remove(name(pick(nodes)));
    } else {
      GpuNode n = randomNode("m" + version);
      nodes.put(name(n), n);
    }
  }

  private void changeOffer() {
    if (offers.isEmpty()) {
      return;
    }
    GpuOffer o = copy(pick(offers));
    GpuOfferSpec spec = o.getSpec();
    switch (random.nextInt(7)) {
      case 0 -> spec.pricePerGpuHour = price();
      case 1 -> spec.gpus = random.nextBoolean() ? null : 1 + random.nextInt(12);
      case 2 -> spec.suspended = !spec.suspended;
      case 3 -> spec.tenants = tenants();
      case 4 -> select(spec);
      case 5 -> spec.maxLeaseDuration = random.nextBoolean() ? null : "24h";
      default -> spec.pricePerGpuHour = random.nextInt(4) == 0 ? "free" : price();
    }
    o.getMetadata().setGeneration(o.getMetadata().getGeneration() + 1);
    o.getMetadata().setResourceVersion(Long.toString(version++));
    offers.put(MarketView.idOf(o), o);
  }

  /** A status write: a new object and resourceVersion, the same generation. */
  private void touchOfferStatus() {
    if (!offers.isEmpty()) {
      GpuOffer o = copy(pick(offers));
      o.getMetadata().setResourceVersion(Long.toString(version++));
      offers.put(MarketView.idOf(o), o);
    }
  }

  private void addOrRemoveOffer() {
    if (random.nextBoolean() && !offers.isEmpty()) {
      offers.remove(MarketView.idOf(pick(offers)));
    } else {
      // Now and then an offer deleted and created again under its name: a new uid.
      String name = random.nextBoolean() ? "o" + random.nextInt(24) : "x" + version;
      GpuOffer o = randomOffer(PROVIDERS[random.nextInt(3)], name);
      offers.put(MarketView.idOf(o), o);
    }
  }

  private GpuNode randomNode(String name) {
    String provider = PROVIDERS[random.nextInt(3)];
    String model = MODELS[random.nextInt(3)];
    GpuNode n = new GpuNode();
    n.getMetadata().setName(name);
    n.getMetadata().setUid("uid-" + name + "-" + version);
    n.getMetadata().setLabels(Map.of("pool", "p" + random.nextInt(4), "model", model));
    GpuNodeSpec spec = new GpuNodeSpec();
    spec.provider = provider;
    spec.nodeName = name;
    spec.tier = random.nextBoolean() ? Tier.EDGE : Tier.DATACENTER;
    spec.region = "r" + random.nextInt(3);
    spec.gpus = new GpuNodeGpus();
    spec.gpus.model = model;
    spec.gpus.count = 8;
    n.setSpec(spec);
    n.setStatus(status(1 << random.nextInt(4), random.nextInt(6) > 0));
    n.getStatus().uptime.ratio24h = random.nextInt(4) == 0 ? null : 0.9 + 0.1 * random.nextDouble();
    n.getMetadata().setResourceVersion(Long.toString(version++));
    return n;
  }

  static GpuNodeStatus status(int allocatable, boolean ready) {
    GpuNodeStatus status = new GpuNodeStatus();
    status.allocatableGpus = allocatable;
    status.leasedGpus = 0;
    status.conditions = List.of(ready(ready));
    status.uptime = new UptimeStatus();
    return status;
  }

  private static Condition ready(boolean ready) {
    return new ConditionBuilder()
        .withType("Ready")
        .withStatus(ready ? "True" : "False")
        .withReason("Test")
        .withMessage("")
        .withLastTransitionTime("2026-01-01T00:00:00Z")
        .build();
  }

  private GpuOffer randomOffer(String provider, String name) {
    GpuOffer o = new GpuOffer();
    o.getMetadata().setNamespace(provider);
    o.getMetadata().setName(name);
    o.getMetadata().setUid("uid-" + name + "-" + version);
    o.getMetadata().setGeneration(1L);
    o.getMetadata().setResourceVersion(Long.toString(version++));
    GpuOfferSpec spec = new GpuOfferSpec();
    spec.provider = provider;
    spec.model = MODELS[random.nextInt(3)];
    spec.pricePerGpuHour = price();
    spec.gpus = random.nextBoolean() ? null : 1 + random.nextInt(12);
    spec.tenants = tenants();
    spec.minLeaseDuration = random.nextInt(6) == 0 ? "2h" : null;
    select(spec);
    o.setSpec(spec);
    return o;
  }

  private void select(GpuOfferSpec spec) {
    spec.nodeSelector = null;
    spec.nodeNames = null;
    if (random.nextInt(3) > 0) {
      spec.nodeSelector = new LabelSelector(null, Map.of("pool", "p" + random.nextInt(4)));
    }
    if (spec.nodeSelector == null || random.nextInt(4) == 0) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        names.add(random.nextInt(5) == 0 ? "missing" : "n" + random.nextInt(30));
      }
      spec.nodeNames = names;
    }
  }

  private LabelSelector tenants() {
    return switch (random.nextInt(4)) {
      case 0 -> null;
      case 1 -> new LabelSelector(null, Map.of("plan", "premium"));
      default -> new LabelSelector(null, Map.of("gpumarket.io/tenant", "true"));
    };
  }

  private String price() {
    return BigDecimal.valueOf(100 + 10 * random.nextInt(6), 2).toPlainString();
  }

  private void namespace(String name, boolean tenant, boolean premium) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (tenant) {
      labels.put("gpumarket.io/tenant", "true");
    }
    if (premium) {
      labels.put("plan", "premium");
    }
    namespaces.put(
        name,
        new NamespaceBuilder()
            .withNewMetadata()
            .withName(name)
            .withLabels(labels)
            .endMetadata()
            .build());
  }

  private PlacementRequest randomRequest() {
    return new PlacementRequest(
        "t" + random.nextInt(4),
        random.nextBoolean()
            ? List.of(MODELS[random.nextInt(3)])
            : List.of(MODELS[random.nextInt(3)], MODELS[random.nextInt(3)]),
        TierRequirement.values()[random.nextInt(3)],
        random.nextInt(3) == 0 ? Set.of("r" + random.nextInt(3)) : Set.of(),
        random.nextInt(4) == 0 ? 0.95 : null,
        false,
        1 + random.nextInt(2),
        1 << random.nextInt(3),
        random.nextBoolean() ? null : new BigDecimal("1.30"),
        "USD",
        random.nextInt(5) == 0 ? Duration.ofHours(random.nextBoolean() ? 1 : 48) : null,
        null);
  }

  private void put(GpuNode n) {
    n.getMetadata().setResourceVersion(Long.toString(version++));
    nodes.put(name(n), n);
  }

  private <T> T pick(Map<?, T> from) {
    return new ArrayList<>(from.values()).get(random.nextInt(from.size()));
  }

  private static <T> T copy(T object) {
    return JSON.clone(object);
  }

  private static String name(GpuNode n) {
    return n.getMetadata().getName();
  }

  private static String describe(OfferState o) {
    return o == null
        ? "none"
        : String.join(
            " ",
            o.id().toString(),
            o.provider(),
            o.model(),
            o.nodes().toString(),
            String.valueOf(o.gpuCap()),
            String.valueOf(o.leasedGpus()),
            o.price().toPlainString(),
            o.currency(),
            String.valueOf(o.minLease()),
            String.valueOf(o.maxLease()),
            String.valueOf(o.suspended()));
  }

  private static String describe(Decision d) {
    return d instanceof Placement p
        ? p.offer().id() + " " + p.blockNodes() + " x" + p.gpusPerBlock()
        : ((Refusal) d).reason() + ": " + ((Refusal) d).message();
  }
}
