package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.NodeAllocation;
import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.market.Decision;
import io.gpumarket.market.Market;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Turns the market's decisions into holds on GPUs, so that no GPU is ever leased twice.
 *
 * <p>Each GpuNode's status carries the ledger of the leases holding its GPUs. Every ledger write is
 * an update that carries the resourceVersion the decision was read from: if anyone changed the node
 * since (another reconcile, another operator replica), it fails with 409 Conflict and the lease
 * decides again on fresh data. A bind only ever adds holds; the lease's status, written last and
 * also with its resourceVersion, is what pods follow. Holds that no status names (a bind cut short
 * by a crash or lost to a concurrent binder) are adopted when they form a whole placement, or
 * released after fencing the lease with a write, so that a slower binder's status write fails
 * instead of naming GPUs that were given back.
 *
 * <p>Decisions within one process are serialized (they take microseconds, and an offer's cap spans
 * several nodes); the ledger writes that follow are not, since each is an API round trip. A
 * decision's GPUs stay taken in the kept market while its writes are under way, and writes to one
 * node go one at a time, each on the copy the last one left in the cache, so that binds running
 * side by side neither pick the same GPUs nor fail on each other's resourceVersions.
 */
@ApplicationScoped
public class LeaseBinder {
  /** What the binder reads and where it reports its own writes. */
  public interface Sources {
    Collection<GpuNode> nodes();

    /** The latest copy of one node this process knows, its own writes included; null if none. */
    GpuNode node(String name);

    /**
     * The latest copies of the nodes whose ledger holds GPUs for this lease, by its uid; found
     * among {@link #nodes()} unless the caches index them.
     */
    default Collection<GpuNode> holding(String leaseUid) {
      return nodes().stream().filter(n -> holds(n, leaseUid)).toList();
    }

    Collection<GpuOffer> offers();

    Namespace namespace(String name);

    /** Puts a status this process just wrote into the cache, ahead of the watch event. */
    void wrote(GpuNode updated, GpuNode previous);

    /** The leases waiting to be bound, by uid, to decide them together. */
    Map<String, PendingBatch.Waiting> waiting();

    /**
     * Has these waiting leases (by uid) decided again soon: a batch placed them, and those it had
     * refused before wait for a retry otherwise.
     */
    default void wake(Collection<String> leaseUids) {}
  }

  /** Thrown when the lease must be decided again after the cache catches up. */
  public static final class Retry extends RuntimeException {
    private final Duration after;

    Retry(String message) {
      this(message, null);
    }

    Retry(String message, Duration after) {
      super(message, null, false, false);
      this.after = after;
    }

    /** When to decide again; null when the caller's own short pause will do. */
    public Duration after() {
      return after;
    }
  }

  static final String REBINDING = "Rebinding";
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(LeaseBinder.class);
  private final KubernetesClient client;
  private final MarketMetrics metrics;

  /**
   * The market of each set of caches, kept up to date from them rather than built per bind. Guarded
   * by this binder's lock.
   */
  private final Map<Sources, MarketSnapshot> snapshots = new java.util.WeakHashMap<>();

  /** The waiting leases decided together, for each set of caches; null to decide each alone. */
  private final Map<Sources, PendingBatch> batches = new java.util.WeakHashMap<>();

  private final Duration batchEvery;

  private final Duration batchMaxWait;

  /** Ledger writes to one node go one at a time: a node's name picks its lock. */
  private final Object[] nodeLocks = new Object[64];

  {
    java.util.Arrays.setAll(nodeLocks, i -> new Object());
  }

  /** Decides leases waiting together fewest options first, the batch at most once a second. */
  public LeaseBinder(KubernetesClient client, MarketMetrics metrics) {
    this(
        client,
        metrics,
        PendingOrder.FEWEST_OPTIONS_FIRST.key,
        Duration.ofSeconds(1),
        Duration.ofMinutes(10));
  }

  /**
   * @param pendingOrder {@code fewest-options-first}: the leases waiting at once are decided
   *     together, those that could get the fewest GPUs first ({@link PendingBatch}); {@code
   *     arrival}: each alone, as its reconcile comes
   * @param batchEvery how often at most the waiting leases are decided together again
   * @param batchMaxWait how long a lease waits before it goes ahead of the others in the batch
   */
  @jakarta.inject.Inject
  public LeaseBinder(
      KubernetesClient client,
      MarketMetrics metrics,
      @ConfigProperty(name = PENDING_ORDER, defaultValue = "fewest-options-first")
          String pendingOrder,
      @ConfigProperty(name = "gpumarket.market.batch-interval", defaultValue = "PT1S")
          Duration batchEvery,
      @ConfigProperty(name = "gpumarket.market.batch-max-wait", defaultValue = "PT10M")
          Duration batchMaxWait) {
    this.client = client;
    this.metrics = metrics;
    this.batchEvery = PendingOrder.of(pendingOrder) == PendingOrder.ARRIVAL ? null : batchEvery;
    this.batchMaxWait = batchMaxWait;
  }

  /** One that decides each lease alone, as its reconcile comes. */
  static LeaseBinder inArrivalOrder(KubernetesClient client, MarketMetrics metrics) {
    return new LeaseBinder(client, metrics, PendingOrder.ARRIVAL.key, Duration.ZERO, Duration.ZERO);
  }

  static final String PENDING_ORDER = "gpumarket.market.pending-order";

  /** In what order leases that wait at the same time are decided. */
  enum PendingOrder {
    FEWEST_OPTIONS_FIRST("fewest-options-first"),
    ARRIVAL("arrival");

    final String key;

    PendingOrder(String key) {
      this.key = key;
    }

    static PendingOrder of(String key) {
      for (PendingOrder o : values()) {
        if (o.key.equals(key)) {
          return o;
        }
      }
      throw new IllegalArgumentException(
          PENDING_ORDER + " must be fewest-options-first or arrival, got " + key);
    }
  }

  /**
   * Decides where a pending lease goes and holds the GPUs. The caller then writes the lease's
   * status with the resourceVersion it read.
   *
   * @return the placement, or the refusal to show the user
   * @throws Retry when holds of an earlier attempt had to be given back first
   * @throws io.fabric8.kubernetes.client.KubernetesClientException 409 when a node changed under us
   */
  public Decision bind(GpuLease lease, PlacementRequest request, Sources sources) {
    String uid = lease.getMetadata().getUid();
    MarketSnapshot snapshot;
    Placement placement;
    Collection<GpuNode> nodes;
    synchronized (this) {
      if (isRebinding(lease)) {
        // A binder fenced this lease to give its holds back; finish that on fresh data first.
        Map<String, GpuNode> fresh = byName(client.resources(GpuNode.class).list().getItems());
        writeHolds(lease, null, Map.of(), fresh.values(), fresh::get, sources);
        GpuLease cleared = client.getKubernetesSerialization().clone(lease);
        cleared.getStatus().conditions.removeIf(c -> "Bound".equals(c.getType()));
        cleared.getStatus().message = "holds of an interrupted bind given back; binding again";
        client.resource(cleared).updateStatus();
        throw new Retry("gave back the holds of an interrupted bind");
      }
      nodes = sources.nodes();
      if (!sources.holding(uid).isEmpty()) {
        // Holds no status names: adopt them only as fresh data shows them, else fence and give
        // back.
        List<GpuNode> fresh = client.resources(GpuNode.class).list().getItems();
        Map<String, GpuAllocation> own = holdsOf(uid, fresh);
        Placement adopted = own.isEmpty() ? null : adopt(own, request, fresh, sources);
        if (adopted != null) {
          return adopted;
        }
        if (!own.isEmpty()) {
          fence(lease);
        }
        throw new Retry("the cache showed holds of an interrupted bind");
      }
      long started = System.nanoTime();
      snapshot = snapshots.computeIfAbsent(sources, s -> new MarketSnapshot());
      Market market = snapshot.market(nodes, sources.offers(), sources::namespace);
      Decision decision =
          batchEvery == null
              ? market.place(request)
              : batches
                  .computeIfAbsent(sources, s -> new PendingBatch(batchEvery, batchMaxWait))
                  .decide(
                      uid,
                      request,
                      market,
                      () -> waiting(lease, request, sources.waiting(), nodes, snapshot),
                      sources::wake,
                      started);
      metrics.observeDecision((System.nanoTime() - started) / 1e9);
      if (!(decision instanceof Placement p)) {
        return decision;
      }
      placement = p;
      snapshot.hold(uid, placement);
    }
    boolean landed = false;
    try {
      writeHolds(
          lease,
          placement.offer().id(),
          placement.gpusByNode(),
          sources.holding(uid),
          sources::node,
          sources);
      landed = true;
    } finally {
      synchronized (this) {
        if (landed) {
          snapshot.landed(uid);
        } else {
          snapshot.forget(uid);
        }
      }
    }
    return placement;
  }

  /**
   * The leases waiting to be bound, this one included, less those whose GPUs are held already: a
   * bind under way, or one that landed before the cache showed its lease bound.
   */
  private static Map<String, PendingBatch.Waiting> waiting(
      GpuLease lease,
      PlacementRequest request,
      Map<String, PendingBatch.Waiting> pending,
      Collection<GpuNode> nodes,
      MarketSnapshot snapshot) {
    Map<String, PendingBatch.Waiting> waiting = new java.util.HashMap<>(pending);
    waiting.keySet().removeIf(snapshot::holdsInFlight);
    for (GpuNode node : nodes) {
      for (GpuAllocation a : MarketView.allocations(node)) {
        waiting.remove(a.leaseUid);
      }
    }
    waiting.put(
        lease.getMetadata().getUid(),
        new PendingBatch.Waiting(request, waited(lease, java.time.Instant.now())));
    return waiting;
  }

  /** How long a pending lease has waited: since it was created, which survives a restart. */
  static Duration waited(GpuLease lease, java.time.Instant now) {
    String created = lease.getMetadata().getCreationTimestamp();
    if (created == null) {
      return Duration.ZERO;
    }
    Duration waited = Duration.between(Times.parse(created), now);
    return waited.isNegative() ? Duration.ZERO : waited;
  }

  static boolean isRebinding(GpuLease lease) {
    return lease.getStatus() != null
        && Conditions.find(lease.getStatus().conditions, "Bound")
            .map(c -> REBINDING.equals(c.getReason()))
            .orElse(false);
  }

  /**
   * Makes the ledger hold exactly what an active lease's status names: removes holds it names
   * nowhere, restores ones that went missing while the node has room.
   */
  public void reconcileHolds(GpuLease lease, Sources sources) {
    Map<String, Integer> want = new TreeMap<>();
    for (NodeAllocation a : lease.getStatus().allocations) {
      want.merge(a.gpuNode, a.gpus, Integer::sum);
    }
    Collection<GpuNode> holding = sources.holding(lease.getMetadata().getUid());
    Map<String, GpuAllocation> own = holdsOf(lease.getMetadata().getUid(), holding);
    Map<String, Integer> have = new TreeMap<>();
    own.forEach((node, a) -> have.put(node, a.gpus));
    if (!have.equals(want)) {
      writeHolds(lease, lease.getStatus().offer, want, holding, sources::node, sources);
    }
  }

  /** Returns every GPU this lease holds to the market. Idempotent. */
  public void release(GpuLease lease, Sources sources) {
    Collection<GpuNode> holding = sources.holding(lease.getMetadata().getUid());
    if (!holding.isEmpty()) {
      writeHolds(lease, null, Map.of(), holding, sources::node, sources);
    }
  }

  private Placement adopt(
      Map<String, GpuAllocation> own,
      PlacementRequest request,
      Collection<GpuNode> nodes,
      Sources sources) {
    ObjectRef offerId = own.values().iterator().next().offer;
    int total = 0;
    List<String> blocks = new ArrayList<>();
    for (var e : own.entrySet()) {
      GpuAllocation a = e.getValue();
      if (!Objects.equals(a.offer, offerId) || a.gpus % request.gpusPerBlock() != 0) {
        return null;
      }
      total += a.gpus;
      for (int i = 0; i < a.gpus / request.gpusPerBlock(); i++) {
        blocks.add(e.getKey());
      }
    }
    if (total != request.totalGpus()) {
      return null;
    }
    GpuOffer offer =
        sources.offers().stream()
            .filter(o -> MarketView.idOf(o).equals(offerId))
            .findFirst()
            .orElse(null);
    if (offer == null || !SpecProblems.of(offer.getSpec()).isEmpty()) {
      return null;
    }
    var state =
        MarketView.offerState(offer, MarketView.selectedNodes(offer, nodes), 0, sources::namespace);
    return new Placement(state, state.model(), blocks, request.gpusPerBlock());
  }

  /**
   * Marks the lease as giving back its holds. The write changes its resourceVersion, so a binder
   * that read it before fails its status write; one that reads it after sees the mark and adopts
   * nothing until the holds are given back and the mark cleared.
   */
  private void fence(GpuLease lease) {
    GpuLease fenced = client.getKubernetesSerialization().clone(lease);
    if (fenced.getStatus() == null) {
      fenced.setStatus(new io.gpumarket.api.v1alpha1.GpuLeaseStatus());
    }
    fenced.getStatus().message = "giving back the holds of an interrupted bind";
    Conditions.set(
        fenced.getStatus().conditions,
        "Bound",
        false,
        REBINDING,
        fenced.getStatus().message,
        lease.getMetadata().getGeneration(),
        java.time.Instant.now());
    client.resource(fenced).updateStatus();
    LOG.debugf(
        "%s fenced at rv %s",
        lease.getMetadata().getName(), lease.getMetadata().getResourceVersion());
  }

  /** Whether the node's ledger holds GPUs for the lease with this uid. */
  static boolean holds(GpuNode node, String leaseUid) {
    for (GpuAllocation a : MarketView.allocations(node)) {
      if (Objects.equals(a.leaseUid, leaseUid)) {
        return true;
      }
    }
    return false;
  }

  private static Map<String, GpuAllocation> holdsOf(String uid, Collection<GpuNode> nodes) {
    Map<String, GpuAllocation> own = new TreeMap<>();
    for (GpuNode node : nodes) {
      for (GpuAllocation a : MarketView.allocations(node)) {
        if (Objects.equals(a.leaseUid, uid)) {
          own.merge(
              node.getMetadata().getName(),
              a,
              (x, y) -> new GpuAllocation(x.lease, x.leaseUid, x.offer, x.gpus + y.gpus));
        }
      }
    }
    return own;
  }

  /**
   * Puts the API server's copy of a node into the cache the market is built from, so that the next
   * decision does not repeat one made on a copy an informer failed to update.
   */
  private void refresh(GpuNode cached, Sources sources) {
    GpuNode fresh = client.resources(GpuNode.class).withName(cached.getMetadata().getName()).get();
    if (fresh != null
        && !Objects.equals(
            fresh.getMetadata().getResourceVersion(), cached.getMetadata().getResourceVersion())) {
      sources.wrote(fresh, cached);
    }
  }

  private static Map<String, GpuNode> byName(Collection<GpuNode> nodes) {
    Map<String, GpuNode> byName = new TreeMap<>();
    nodes.forEach(n -> byName.put(n.getMetadata().getName(), n));
    return byName;
  }

  /**
   * Sets this lease's holds to {@code want} (GpuNode to GPUs) with resourceVersion-checked writes,
   * one node at a time, each on the {@code latest} copy of the node once no other write to it is
   * under way here.
   *
   * @param holding nodes that may hold GPUs for the lease (others may be among them), to find the
   *     holds it gives back
   */
  private void writeHolds(
      GpuLease lease,
      ObjectRef offer,
      Map<String, Integer> want,
      Collection<GpuNode> holding,
      Function<String, GpuNode> latest,
      Sources sources) {
    Set<String> names = new TreeSet<>(want.keySet());
    names.addAll(holdsOf(lease.getMetadata().getUid(), holding).keySet());
    for (String name : names) {
      synchronized (nodeLocks[Math.floorMod(name.hashCode(), nodeLocks.length)]) {
        writeHold(lease, offer, want.getOrDefault(name, 0), name, latest.apply(name), sources);
      }
    }
  }

  private void writeHold(
      GpuLease lease, ObjectRef offer, int gpus, String name, GpuNode current, Sources sources) {
    if (current == null) {
      if (gpus > 0) {
        throw new Retry("GpuNode " + name + " is gone");
      }
      return;
    }
    String uid = lease.getMetadata().getUid();
    List<GpuAllocation> allocations = new ArrayList<>();
    int held = 0;
    int mine = 0;
    for (GpuAllocation a : MarketView.allocations(current)) {
      if (Objects.equals(a.leaseUid, uid)) {
        mine += a.gpus;
      } else {
        allocations.add(a);
        held += a.gpus;
      }
    }
    if (mine == gpus) {
      return;
    }
    if (gpus > 0) {
      Integer allocatable = current.getStatus().allocatableGpus;
      if (held + gpus > (allocatable == null ? 0 : allocatable)) {
        refresh(current, sources);
        throw new Retry("no room left on " + name + " for " + gpus + " GPUs");
      }
      allocations.add(new GpuAllocation(MarketView.idOf(lease), uid, offer, gpus));
      held += gpus;
    }
    GpuNode updated = client.getKubernetesSerialization().clone(current);
    updated.getStatus().allocations = allocations;
    updated.getStatus().leasedGpus = held;
    GpuNode written;
    try {
      written = client.resource(updated).updateStatus();
      metrics.observeNodeStatusWrite(MarketMetrics.NodeWrite.LEDGER);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() == 409) {
        refresh(current, sources);
      }
      throw e;
    }
    LOG.debugf(
        "%s holds %d GPUs of %s (was %d; rv %s -> %s)",
        lease.getMetadata().getName(),
        gpus,
        name,
        mine,
        current.getMetadata().getResourceVersion(),
        written.getMetadata().getResourceVersion());
    sources.wrote(written, current);
  }
}
