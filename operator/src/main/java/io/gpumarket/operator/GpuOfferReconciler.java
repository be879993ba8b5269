package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferStatus;
import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.market.NodeState;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Shows what an offer can sell now: capacity, leased, available and the largest free block. */
@ControllerConfiguration(
    name = "gpuoffer",
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = Failsafe.HOURS, timeUnit = TimeUnit.HOURS),
    informer = @Informer(itemStore = LeanCaches.WithoutManagedFields.class))
public class GpuOfferReconciler implements Reconciler<GpuOffer> {
  /**
   * How often a change of counts alone is written by default (see {@link #write}): as often as a
   * kubelet reports its Node's status.
   */
  static final String COUNTS_EVERY = "PT10S";

  private final Map<ResourceID, Instant> lastWritten =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final MarketCaches caches;
  private final EventRecorder events;
  private final Duration countsEvery;
  private volatile Instant sweptAt = Instant.EPOCH;
  private final WriteBudget<ResourceID> countsBudget;
  private final SharedInformer<GpuNode> nodes;

  /**
   * Offers whose change of counts waits for a reschedule already asked of JOSDK, and until when: a
   * GpuNode's change of its holds alone changes nothing else an offer shows, and that reschedule
   * reads the counts from the cache when it comes. At size M of the benchmark nearly every other
   * reconcile was an offer's that ended in that wait, one for each bind on a node it sells.
   */
  private final Map<ResourceID, Instant> countsDue = new java.util.concurrent.ConcurrentHashMap<>();

  /** What an offer shows of each GpuNode besides its holds, by node, as its last event left it. */
  private final Map<String, Shown> shown = new java.util.concurrent.ConcurrentHashMap<>();

  public GpuOfferReconciler(
      MarketCaches caches,
      EventRecorder events,
      @ConfigProperty(name = "gpumarket.offer.counts-interval", defaultValue = COUNTS_EVERY)
          Duration countsEvery,
      @ConfigProperty(name = COUNTS_WRITES_PER_SECOND, defaultValue = "10")
          double countsWritesPerSecond) {
    this.caches = caches;
    this.nodes = caches.sharedNodes();
    this.events = events;
    this.countsEvery = countsEvery;
    this.countsBudget = new WriteBudget<>(countsWritesPerSecond, COUNTS_WRITES_PER_SECOND);
  }

  static final String COUNTS_WRITES_PER_SECOND = "gpumarket.offer.counts-writes-per-second";

  @Override
  public List<EventSource<?, GpuOffer>> prepareEventSources(EventSourceContext<GpuOffer> context) {
    var offers = context.getPrimaryCache();
    caches.registerOffers(offers);
    offers.addIndexer(HEARS_OF_INDEX, GpuOfferReconciler::hearsOf);
    var nodeEvents =
        nodes.<GpuOffer>listen(
            "gpunodes",
            null,
            GpuOfferReconciler::changesWhatOffersShow,
            (node, unknownState) -> {
              shown.remove(node.getMetadata().getName());
              return true;
            },
            node -> toWake(offers, node));
    nodes.addIndexers(
        Map.of(
            LABEL_INDEX,
            n ->
                n.getMetadata().getLabels() == null
                    ? List.of()
                    : n.getMetadata().getLabels().entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .toList(),
            OFFER_INDEX,
            n ->
                MarketView.allocations(n).stream()
                    .filter(a -> a.offer != null)
                    .map(a -> a.offer.toString())
                    .distinct()
                    .toList()));
    return List.of(nodeEvents);
  }

  private static final String LABEL_INDEX = "label";
  private static final String OFFER_INDEX = "offer";
  private static final String HEARS_OF_INDEX = "hearsOf";

  /**
   * Keys under which an offer hears of a GpuNode's change: the nodes it names and those it showed
   * as sold at its last write (so that it hears of one that leaves its selector), and for its
   * selector one of its labels, or {@code *} for a selector without labels to match.
   */
  static List<String> hearsOf(GpuOffer offer) {
    List<String> keys = new ArrayList<>();
    var spec = offer.getSpec();
    if (spec != null && spec.nodeNames != null) {
      spec.nodeNames.forEach(n -> keys.add("name/" + n));
    }
    if (offer.getStatus() != null && offer.getStatus().nodes != null) {
      offer.getStatus().nodes.forEach(n -> keys.add("sold/" + n));
    }
    if (spec != null && spec.nodeSelector != null) {
      var labels = spec.nodeSelector.getMatchLabels();
      keys.add(
          labels == null || labels.isEmpty()
              ? "*"
              : labels.entrySet().stream()
                  .min(Map.Entry.comparingByKey())
                  .map(e -> "label/" + e.getKey() + "=" + e.getValue())
                  .orElseThrow());
    }
    return keys;
  }

  /**
   * The offers whose status a GpuNode's change may change: those that name it, select it, or sold
   * it. Not every offer of its provider: at size L (10,000 offers, a provider with a third of them)
   * each bind set off over three thousand offer reconciles.
   */
  static Set<ResourceID> offersConcerned(IndexedResourceCache<GpuOffer> offers, GpuNode node) {
    String name = node.getMetadata().getName();
    Map<String, String> labels =
        node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    Set<ResourceID> found = new HashSet<>();
    for (String key : List.of("name/" + name, "sold/" + name)) {
      offers.byIndex(HEARS_OF_INDEX, key).forEach(o -> found.add(ResourceID.fromResource(o)));
    }
    List<String> selectorKeys = new ArrayList<>(List.of("*"));
    labels.forEach((k, v) -> selectorKeys.add("label/" + k + "=" + v));
    for (String key : selectorKeys) {
      for (GpuOffer o : offers.byIndex(HEARS_OF_INDEX, key)) {
        if (Selectors.matches(o.getSpec().nodeSelector, labels)) {
          found.add(ResourceID.fromResource(o));
        }
      }
    }
    return found;
  }

  /**
   * The offers a GpuNode's change wakes: those concerned, less those whose counts wait for a
   * reschedule already when the change is of the node's holds alone. Called once for each event the
   * update filter lets through (the event source keeps no index that would call it again).
   */
  private Set<ResourceID> toWake(IndexedResourceCache<GpuOffer> offers, GpuNode node) {
    Set<ResourceID> concerned = offersConcerned(offers, node);
    Shown now = Shown.of(node);
    boolean holdsAlone = now.equals(shown.put(node.getMetadata().getName(), now));
    if (holdsAlone && !countsDue.isEmpty()) {
      Instant at = Instant.now();
      concerned.removeIf(
          id -> {
            Instant due = countsDue.get(id);
            return due != null && at.isBefore(due);
          });
    }
    return concerned;
  }

  /**
   * What an offer shows of a GpuNode besides its holds: its generation, labels, healthy GPUs,
   * readiness and schedulability. The one definition {@link #changesWhatOffersShow} and {@link
   * #toWake} share, so that a change one counts as more than holds the other does too.
   */
  record Shown(
      Long generation,
      Map<String, String> labels,
      Integer healthyGpus,
      Boolean ready,
      Boolean schedulable) {
    static Shown of(GpuNode node) {
      Long generation = node.getMetadata().getGeneration();
      Map<String, String> labels = node.getMetadata().getLabels();
      if (!MarketView.hasGpuSpec(node)) {
        return new Shown(generation, labels, null, null, null);
      }
      NodeState state = MarketView.nodeState(node, null);
      return new Shown(generation, labels, state.healthyGpus(), state.ready(), state.schedulable());
    }
  }

  /**
   * Whether a GpuNode's change can change an offer's status: its labels, spec, health, holds or
   * readiness. Not its uptime history or challenges, which thousands of nodes write all the time:
   * at size L (5,000 nodes) each such write set off every offer of the provider, and the offers'
   * reconciles took every reconcile thread from the jobs.
   */
  static boolean changesWhatOffersShow(GpuNode now, GpuNode before) {
    return !MarketView.hasGpuSpec(now)
        || !MarketView.hasGpuSpec(before)
        || !Shown.of(now).equals(Shown.of(before))
        || !holds(now).equals(holds(before));
  }

  private static List<String> holds(GpuNode node) {
    return MarketView.allocations(node).stream().map(a -> a.offer + ":" + a.gpus).toList();
  }

  /** The nodes an offer names and those its selector may match (see {@link MarketView}). */
  private List<GpuNode> candidates(GpuOffer offer) {
    Map<String, GpuNode> found = new LinkedHashMap<>();
    if (offer.getSpec().nodeNames != null) {
      for (String name : offer.getSpec().nodeNames) {
        nodes.get(new ResourceID(name)).ifPresent(n -> found.put(name, n));
      }
    }
    MarketView.selectorCandidates(
            offer, (k, v) -> nodes.byIndex(LABEL_INDEX, k + "=" + v), () -> nodes.list().toList())
        .forEach(n -> found.put(n.getMetadata().getName(), n));
    return new ArrayList<>(found.values());
  }

  @Override
  public UpdateControl<GpuOffer> reconcile(GpuOffer offer, Context<GpuOffer> context) {
    if (!nodes.ready()) {
      // The nodes' informer is the lease controller's and may start after this one: counts from
      // an empty cache would show every offer empty until it lists.
      return UpdateControl.<GpuOffer>noUpdate().rescheduleAfter(NODES_NOT_LISTED_RETRY);
    }
    return reconcile(offer, context, 1);
  }

  private static final Duration NODES_NOT_LISTED_RETRY = Duration.ofMillis(500);

  private UpdateControl<GpuOffer> reconcile(
      GpuOffer offer, Context<GpuOffer> context, int refreshes) {
    GpuOfferStatus before = StatusDiff.copy(offer.getStatus());
    GpuOfferStatus status = offer.getStatus() == null ? new GpuOfferStatus() : offer.getStatus();
    offer.setStatus(status);
    Instant now = Instant.now();
    Long generation = offer.getMetadata().getGeneration();
    status.observedGeneration = generation;
    boolean wasReady = Conditions.isTrue(status.conditions, "Ready");

    List<String> problems = SpecProblems.of(offer.getSpec());
    if (!problems.isEmpty()) {
      status.capacityGpus = 0;
      status.leasedGpus = 0;
      status.availableGpus = 0;
      status.largestFreeBlock = 0;
      status.nodes = new ArrayList<>();
      setReady(offer, status, false, "InvalidSpec", String.join("; ", problems), wasReady, now);
      return write(offer, before, status, context, refreshes);
    }
    var spec = offer.getSpec();
    ObjectRef id = MarketView.idOf(offer);
    List<GpuNode> all = candidates(offer);
    Map<String, GpuNode> byName = new TreeMap<>();
    all.forEach(n -> byName.put(n.getMetadata().getName(), n));

    int leased = 0;
    for (GpuNode n : nodes.byIndex(OFFER_INDEX, id.toString())) {
      for (GpuAllocation a : MarketView.allocations(n)) {
        if (id.equals(a.offer)) {
          leased += a.gpus;
        }
      }
    }
    Map<String, List<String>> excluded = new TreeMap<>();
    List<String> sold = new ArrayList<>();
    int healthy = 0;
    int free = 0;
    int largest = 0;
    for (String name : MarketView.selectedNodes(offer, all)) {
      GpuNode node = byName.get(name);
      String why = null;
      if (node == null) {
        why = "missing";
      } else if (!SpecProblems.of(node.getSpec()).isEmpty()) {
        why = "with an invalid spec";
      } else if (!spec.provider.equals(node.getSpec().provider)) {
        why = "owned by another provider";
      } else if (!spec.model.equals(node.getSpec().gpus.model)) {
        why = "of another model";
      }
      if (why != null) {
        excluded.computeIfAbsent(why, k -> new ArrayList<>()).add(name);
        continue;
      }
      sold.add(name);
      NodeState state = MarketView.nodeState(node, null);
      if (state.ready() && state.schedulable()) {
        healthy += state.healthyGpus();
        free += state.freeGpus();
        largest = Math.max(largest, state.freeGpus());
      }
    }
    int cap = spec.gpus == null ? Integer.MAX_VALUE : spec.gpus;
    status.nodes = sold;
    status.capacityGpus = Math.min(healthy, cap);
    status.leasedGpus = leased;
    status.availableGpus = spec.suspended ? 0 : Math.max(0, Math.min(free, cap - leased));
    status.largestFreeBlock = Math.min(largest, status.availableGpus);

    String skipped =
        excluded.isEmpty()
            ? ""
            : "; skipped "
                + excluded.entrySet().stream()
                    .map(
                        e ->
                            e.getValue().size()
                                + " GpuNode(s) "
                                + e.getKey()
                                + " ("
                                + String.join(", ", e.getValue())
                                + ")")
                    .collect(Collectors.joining(", "));
    if (spec.suspended) {
      setReady(
          offer,
          status,
          false,
          "Suspended",
          "the offer is suspended: no new leases" + skipped,
          wasReady,
          now);
    } else if (sold.isEmpty()) {
      String reason =
          excluded.containsKey("owned by another provider")
              ? "NodesOfOtherProvider"
              : "NoMatchingNodes";
      String message =
          excluded.isEmpty()
              ? "the offer selects no GpuNode: check nodeSelector and nodeNames"
              : "no selected GpuNode can be sold by provider "
                  + spec.provider
                  + " as "
                  + spec.model
                  + skipped;
      setReady(offer, status, false, reason, message, wasReady, now);
    } else if (spec.tenants == null) {
      setReady(
          offer,
          status,
          false,
          "NoTenants",
          "spec.tenants is absent, so no namespace may lease from this offer; set tenants: {} to admit"
              + " every namespace, or a selector for some"
              + skipped,
          wasReady,
          now);
    } else if (healthy == 0) {
      setReady(
          offer,
          status,
          false,
          "NoHealthyGpus",
          "none of the " + sold.size() + " GpuNode(s) sold is ready" + skipped,
          wasReady,
          now);
    } else {
      setReady(
          offer,
          status,
          true,
          "Ready",
          status.availableGpus
              + " of "
              + status.capacityGpus
              + " GPUs available on "
              + sold.size()
              + " GpuNode(s)"
              + skipped,
          wasReady,
          now);
    }
    return write(offer, before, status, context, refreshes);
  }

  private void setReady(
      GpuOffer offer,
      GpuOfferStatus status,
      boolean ready,
      String reason,
      String message,
      boolean wasReady,
      Instant now) {
    String previousReason =
        Conditions.find(status.conditions, "Ready").map(c -> c.getReason()).orElse(null);
    Conditions.set(
        status.conditions,
        "Ready",
        ready,
        reason,
        message,
        offer.getMetadata().getGeneration(),
        now);
    if (!ready && (wasReady || !reason.equals(previousReason))) {
      events.warning(offer, EventReason.OfferNotReady, message);
    }
  }

  /**
   * Writes a changed status, but a change of counts alone (capacity, leased, available, largest
   * block, and the Ready message that repeats them) at most every {@code countsEvery} per offer,
   * and within {@code gpumarket.offer.counts-writes-per-second} for all offers together: every bind
   * changes the counts of every offer selling the node, and the market decides from the nodes'
   * ledgers, not from these figures, so a busy market need not patch them for each lease. At size L
   * of the benchmark, 10,000 offers each seeing a bind now and then wrote 2.3 counts per bound job.
   */
  private UpdateControl<GpuOffer> write(
      GpuOffer offer,
      GpuOfferStatus before,
      GpuOfferStatus after,
      Context<GpuOffer> context,
      int refreshes) {
    ResourceID id = ResourceID.fromResource(offer);
    // Whatever this reconcile asks of JOSDK replaces the reschedule asked before.
    countsDue.remove(id);
    if (!StatusDiff.changed(before, after)) {
      return UpdateControl.noUpdate();
    }
    Instant now = Instant.now();
    Instant last = lastWritten.get(id);
    if (!StatusDiff.changed(withoutCounts(before), withoutCounts(after))) {
      if (last != null && now.isBefore(last.plus(countsEvery))) {
        return countsWait(id, Duration.between(now, last.plus(countsEvery)), now);
      }
      Duration wait = countsBudget.waitFor(id, System.nanoTime());
      if (!wait.isZero()) {
        return countsWait(id, wait, now);
      }
    } else {
      countsBudget.forget(id);
    }
    // Only the last few seconds matter, so older entries (deleted offers among them) can go: swept
    // once per countsEvery, since a sweep walks every offer's entry (3 % of the CPU at size M when
    // it ran at every write).
    if (now.isAfter(sweptAt.plus(countsEvery))) {
      sweptAt = now;
      lastWritten.values().removeIf(t -> t.isBefore(now.minus(countsEvery)));
      countsDue.values().removeIf(t -> t.isBefore(now));
    }
    lastWritten.put(id, now);
    // Written whole with the resourceVersion it was computed from, as the other kinds' statuses:
    // JOSDK's patch diffs two copies of the offer and sends array indexes that a lagging cache
    // can misplace, and cost more CPU than the write it makes.
    if (!CheckedWrites.updateStatus(context.getClient(), offer)) {
      lastWritten.remove(id);
      return CheckedWrites.afterConflict(
          context.getClient(),
          offer,
          refreshes,
          (fresh, left) -> reconcile(fresh, context, left),
          CONFLICT_RETRY);
    }
    return UpdateControl.noUpdate();
  }

  private static final Duration CONFLICT_RETRY = Duration.ofSeconds(1);

  /** Leaves the counts to a reschedule, which holds changes alone no longer wake before. */
  private UpdateControl<GpuOffer> countsWait(ResourceID id, Duration wait, Instant now) {
    countsDue.put(id, now.plus(wait));
    return UpdateControl.<GpuOffer>noUpdate().rescheduleAfter(wait);
  }

  private static GpuOfferStatus withoutCounts(GpuOfferStatus status) {
    GpuOfferStatus copy = StatusDiff.copy(status);
    if (copy == null) {
      return null;
    }
    copy.capacityGpus = null;
    copy.leasedGpus = null;
    copy.availableGpus = null;
    copy.largestFreeBlock = null;
    copy.conditions.forEach(
        c -> {
          if ("Ready".equals(c.getType()) && "Ready".equals(c.getReason())) {
            c.setMessage(null);
          }
        });
    return copy;
  }
}
