package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.GpuLeaseStatus;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.NodeAllocation;
import io.gpumarket.api.v1alpha1.TierRequirement;
import io.gpumarket.market.Decision;
import io.gpumarket.market.Durations;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import io.gpumarket.market.Refusal;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Binds a GpuLease to an offer, holds its GPUs, accrues its cost, ends it at its end time or on
 * release, and keeps the namespace's GPU quota equal to its active leases.
 */
@ControllerConfiguration(
    name = "gpulease",
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = Failsafe.HOURS, timeUnit = TimeUnit.HOURS),
    informer = @Informer(itemStore = LeanCaches.WithoutManagedFields.class))
public class GpuLeaseReconciler implements Reconciler<GpuLease>, Cleaner<GpuLease> {
  static final Duration PENDING_RETRY = Duration.ofSeconds(15);
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(GpuLeaseReconciler.class);

  static final Duration CONFLICT_RETRY = Duration.ofMillis(300);

  private final LeaseBinder binder;
  private final QuotaKeeper quotas;
  private final MarketMetrics metrics;
  private final MarketCaches caches;
  private final EventRecorder events;
  private final LeaseRetention retention;
  private final AccrualPace accrual;
  private final Instant processStart = Instant.now();

  /**
   * GPUs of the leases this process made Active that the cache does not show Active yet, by
   * namespace and lease uid (see {@link #activeGpus}): by namespace, since each quota count reads
   * one namespace's and a walk of all of them at every bind grew with the leases of the whole
   * cluster.
   */
  private final Map<String, Map<String, Integer>> activeHere = new ConcurrentHashMap<>();

  private IndexerResourceCache<GpuLease> leases;
  private InformerEventSource<GpuNode, GpuLease> nodes;

  /** The store of {@link #nodes}' informer, listed at every bind. */
  private LeanCaches.Listed<GpuNode> nodeStore;

  private InformerEventSource<GpuOffer, GpuLease> offers;
  private InformerEventSource<Namespace, GpuLease> namespaces;

  public GpuLeaseReconciler(
      LeaseBinder binder,
      QuotaKeeper quotas,
      MarketMetrics metrics,
      MarketCaches caches,
      EventRecorder events,
      @ConfigProperty(name = "gpumarket.lease.retention", defaultValue = "P30D") Duration retention,
      @ConfigProperty(name = "gpumarket.lease.accrual-interval", defaultValue = "PT1M")
          Duration accrualInterval,
      @ConfigProperty(name = "gpumarket.lease.accrual-writes-per-second", defaultValue = "10")
          double accrualWritesPerSecond) {
    this.binder = binder;
    this.quotas = quotas;
    this.metrics = metrics;
    this.caches = caches;
    this.events = events;
    this.retention = new LeaseRetention(retention);
    this.accrual =
        new AccrualPace(
            accrualInterval,
            accrualWritesPerSecond,
            () -> leases == null ? 0 : (int) leases.list(ComputeJobReconciler::isActive).count());
  }

  @Override
  public List<EventSource<?, GpuLease>> prepareEventSources(EventSourceContext<GpuLease> context) {
    leases = context.getPrimaryCache();
    // Pending and active leases are a small part of all the leases kept (ended ones stay for
    // billing): indexed, a bind or a quota count does not walk every lease of the cluster.
    leases.addIndexer(
        PENDING_INDEX,
        l -> isPending(l) ? List.of(ANY_NAMESPACE, l.getMetadata().getNamespace()) : List.of());
    leases.addIndexer(
        ACTIVE_INDEX,
        l ->
            ComputeJobReconciler.isActive(l) && l.getMetadata().getDeletionTimestamp() == null
                ? List.of(l.getMetadata().getNamespace())
                : List.of());
    caches.registerLeases(leases);
    nodeStore = new LeanCaches.Listed<>();
    // The owner of the shared GpuNode informer: its cache must show the binder's ledger writes.
    nodes =
        caches
            .sharedNodes()
            .own(
                LeanCaches.secondaries(GpuNode.class, GpuLease.class)
                    .withItemStore(nodeStore)
                    .withSecondaryToPrimaryMapper(n -> pendingLeases(null))
                    .withOnUpdateFilter(GpuLeaseReconciler::mayHelpPendingLeases)
                    .build(),
                context);
    nodes.addIndexers(
        Map.of(
            HOLDERS_INDEX,
            n ->
                MarketView.allocations(n).stream()
                    .map(a -> a.leaseUid)
                    .filter(Objects::nonNull)
                    .distinct()
                    .toList()));
    offers =
        new InformerEventSource<>(
            LeanCaches.secondaries(GpuOffer.class, GpuLease.class)
                // The filters see every event of the informer: they count what the market reads.
                .withOnAddFilter(o -> offersListed.changed(true))
                .withOnUpdateFilter(
                    (now, before) -> offersListed.changed(mayChangeTheMarket(now, before)))
                .withOnDeleteFilter((o, unknownState) -> offersListed.changed(true))
                .withSecondaryToPrimaryMapper(o -> pendingLeases(null))
                .build(),
            context);
    namespaces =
        new InformerEventSource<>(
            LeanCaches.secondaries(Namespace.class, GpuLease.class)
                .withSecondaryToPrimaryMapper(ns -> pendingLeases(ns.getMetadata().getName()))
                .build(),
            context);
    woken = new SimpleInboundEventSource<>("placed-by-a-batch");
    return List.of(nodes, offers, namespaces, woken);
  }

  /**
   * The offers as the market reads them (their specs and labels), listed again only after one came,
   * went or changed them: a bind reads them all (10,000 at size L), and offers' status writes, most
   * of their events, change nothing the market reads.
   */
  private final ChangeCountedList<GpuOffer> offersListed = new ChangeCountedList<>();

  private List<GpuOffer> listedOffers() {
    return offersListed.list(() -> offers.list().toList());
  }

  /** Leases a batch placed, reconciled at once rather than at their next retry. */
  private SimpleInboundEventSource<GpuLease> woken;

  /** The waiting leases of the last batch, by uid. */
  private volatile Map<String, ResourceID> waitingIds = Map.of();

  /** Only more free GPUs, or a host coming back or going, can change a pending lease's fate. */
  private static boolean mayHelpPendingLeases(GpuNode now, GpuNode before) {
    if (!MarketView.hasGpuSpec(now) || !MarketView.hasGpuSpec(before)) {
      return true;
    }
    var after = MarketView.nodeState(now, null);
    var earlier = MarketView.nodeState(before, null);
    return after.freeGpus() > earlier.freeGpus() || after.ready() != earlier.ready();
  }

  /**
   * The market reads an offer's spec, never its status: the counts an offer's status shows change
   * with every bind, and each change used to send every pending lease through the market again (at
   * size L, thousands of reconciles per bind).
   */
  static boolean mayChangeTheMarket(GpuOffer now, GpuOffer before) {
    return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
        || !Objects.equals(now.getMetadata().getLabels(), before.getMetadata().getLabels());
  }

  /** The resourceVersion each lease this process bound was read at, until the cache moves past. */
  private final Map<String, Long> boundFrom = new ConcurrentHashMap<>();

  /**
   * Whether this copy of a lease is the one this process bound it from, or older; forgets the bind
   * once the cache shows a newer copy.
   */
  private boolean boundHereFromThisCopy(GpuLease lease) {
    String uid = lease.getMetadata().getUid();
    Long from = boundFrom.get(uid);
    Long seen = CheckedWrites.version(lease);
    if (from == null || seen == null) {
      return false;
    }
    if (seen > from) {
      boundFrom.remove(uid, from);
      return false;
    }
    return true;
  }

  private Set<ResourceID> pendingLeases(String namespace) {
    return leases.byIndex(PENDING_INDEX, namespace == null ? ANY_NAMESPACE : namespace).stream()
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }

  /** GpuNodes by the uids of the leases their ledger holds GPUs for. */
  private static final String HOLDERS_INDEX = "holders";

  /** Pending leases by namespace, and all of them under {@link #ANY_NAMESPACE}. */
  private static final String PENDING_INDEX = "pending";

  private static final String ANY_NAMESPACE = "*";

  /** Active leases not being deleted, by namespace. */
  private static final String ACTIVE_INDEX = "active";

  private static boolean isPending(GpuLease lease) {
    return lease.getStatus() == null
        || lease.getStatus().phase == null
        || lease.getStatus().phase == LeasePhase.Pending;
  }

  private final LeaseBinder.Sources sources =
      new LeaseBinder.Sources() {
        private final OwnNodeWrites own = new OwnNodeWrites();

        @Override
        public Collection<GpuNode> nodes() {
          return own.overlay(nodeStore.all(), this::node);
        }

        @Override
        public GpuNode node(String name) {
          return nodes.get(new ResourceID(name)).orElse(null);
        }

        @Override
        public Collection<GpuNode> holding(String leaseUid) {
          Map<String, GpuNode> found = new java.util.TreeMap<>();
          for (GpuNode cached : nodes.byIndex(HOLDERS_INDEX, leaseUid)) {
            found.put(cached.getMetadata().getName(), own.latest(cached, this::node));
          }
          // A hold this process just wrote may not be in the cache, nor in its index, yet. A node
          // the cache no longer has was deleted since: its write is forgotten.
          found.putAll(own.latestOfWritten(this::node));
          found.values().removeIf(n -> !LeaseBinder.holds(n, leaseUid));
          return found.values();
        }

        @Override
        public Collection<GpuOffer> offers() {
          return listedOffers();
        }

        @Override
        public Namespace namespace(String name) {
          return namespaces.get(new ResourceID(name)).orElse(null);
        }

        @Override
        public void wrote(GpuNode updated, GpuNode previous) {
          nodes.handleRecentResourceUpdate(ResourceID.fromResource(updated), updated, previous);
          own.wrote(updated);
        }

        @Override
        public Map<String, PendingBatch.Waiting> waiting() {
          // One list for the whole batch; taken again only after an offer changed.
          List<GpuOffer> offerList = listedOffers();
          Instant now = Instant.now();
          Map<String, PendingBatch.Waiting> waiting = new HashMap<>();
          Map<String, ResourceID> ids = new HashMap<>();
          leases.byIndex(PENDING_INDEX, ANY_NAMESPACE).stream()
              .filter(
                  l ->
                      l.getMetadata().getDeletionTimestamp() == null
                          && !l.getSpec().release
                          && !LeaseBinder.isRebinding(l)
                          && SpecProblems.of(l.getSpec()).isEmpty())
              .forEach(
                  l -> {
                    waiting.put(
                        l.getMetadata().getUid(),
                        new PendingBatch.Waiting(
                            request(l, () -> offerList, now), LeaseBinder.waited(l, now)));
                    ids.put(l.getMetadata().getUid(), ResourceID.fromResource(l));
                  });
          waitingIds = ids;
          return waiting;
        }

        @Override
        public void wake(Collection<String> leaseUids) {
          Map<String, ResourceID> ids = waitingIds;
          for (String uid : leaseUids) {
            ResourceID id = ids.get(uid);
            if (id != null) {
              woken.propagateEvent(id);
            }
          }
        }
      };

  @Override
  public UpdateControl<GpuLease> reconcile(GpuLease lease, Context<GpuLease> context) {
    return reconcile(lease, context, 1);
  }

  /** After a conflict on the lease's status, reconciles once more from the server's copy. */
  private UpdateControl<GpuLease> afterConflict(
      GpuLease stale, Context<GpuLease> context, int refreshes) {
    return CheckedWrites.afterConflict(
        context.getClient(),
        stale,
        refreshes,
        (fresh, left) -> reconcile(fresh, context, left),
        CONFLICT_RETRY);
  }

  private UpdateControl<GpuLease> reconcile(
      GpuLease lease, Context<GpuLease> context, int refreshes) {
    boolean staleCopy = boundHereFromThisCopy(lease);
    GpuLeaseStatus before = StatusDiff.copy(lease.getStatus());
    GpuLeaseStatus status = lease.getStatus() == null ? new GpuLeaseStatus() : lease.getStatus();
    lease.setStatus(status);
    ReconcileErrors.clear(status.conditions);
    if (status.phase == null) {
      status.phase = LeasePhase.Pending;
    }
    Instant now = Instant.now();
    Long generation = lease.getMetadata().getGeneration();
    status.observedGeneration = generation;
    GpuLeaseSpec spec = lease.getSpec();
    Duration next = null;

    try {
      if (status.phase == LeasePhase.Active && spec.release) {
        end(lease, LeasePhase.Released, now, "released by its owner");
      } else if (status.phase == LeasePhase.Active
          && status.endTime != null
          && !now.isBefore(Times.parse(status.endTime))) {
        end(lease, LeasePhase.Expired, Times.parse(status.endTime), "reached its end time");
      } else if (status.phase == LeasePhase.Active) {
        binder.reconcileHolds(lease, sources);
      } else if (status.phase == LeasePhase.Pending && staleCopy) {
        // This process bound it and the cache does not show that write yet (an event came first:
        // a batch's wake, a retry). Deciding now would only adopt its own holds and write the
        // status again; the watch event of the write follows.
        return UpdateControl.<GpuLease>noUpdate().rescheduleAfter(CONFLICT_RETRY);
      } else if (status.phase == LeasePhase.Pending && spec.release) {
        binder.release(lease, sources);
        status.phase = LeasePhase.Released;
        status.message = "released before it was bound; nothing was billed";
        Conditions.set(
            status.conditions, "Bound", false, "Released", status.message, generation, now);
      } else if (status.phase == LeasePhase.Pending) {
        next = bind(lease, now);
        if (status.phase == LeasePhase.Active) {
          // The tenant's quota first: the job creates its pods the moment the lease reads Active,
          // and a real API server refuses them while the quota is still lower. Should the write
          // below fail, the next pass lowers the quota again.
          activeHere
              .computeIfAbsent(lease.getMetadata().getNamespace(), n -> new ConcurrentHashMap<>())
              .put(lease.getMetadata().getUid(), spec.gpus);
          syncQuota(lease);
          // The status names the GPUs pods will use: write it only if nobody touched the lease
          // since we read it, so a concurrent binder cannot have given them back meanwhile.
          Long readAt = CheckedWrites.version(lease);
          if (!CheckedWrites.updateStatus(context.getClient(), lease)) {
            forgetActive(lease.getMetadata().getNamespace(), lease.getMetadata().getUid());
            // The quota was raised for it: the namespace's next pass counts again.
            quotas.forget(lease.getMetadata().getNamespace());
            // The holds stay; the next pass adopts them for this lease, from fresh data.
            return afterConflict(lease, context, refreshes);
          }
          if (readAt != null) {
            boundFrom.put(lease.getMetadata().getUid(), readAt);
          }
          org.jboss.logging.Logger.getLogger(GpuLeaseReconciler.class)
              .debugf(
                  "%s Active at rv %s: %s",
                  lease.getMetadata().getName(),
                  lease.getMetadata().getResourceVersion(),
                  status.message);
          if (!JobLeases.isJobsOwn(lease)) {
            // A job's own lease is told of in the job's PodsCreated event: one write fewer a job.
            events.normal(lease, EventReason.LeaseBound, status.message);
          }
          return UpdateControl.<GpuLease>noUpdate()
              .rescheduleAfter(
                  untilNextAccrual(status, nextAccrual(lease, accrual.period(), now), now));
        }
      } else if (status.phase.isFinal()) {
        binder.release(lease, sources);
      }
    } catch (LeaseBinder.Retry e) {
      LOG.debugf("%s: %s; retrying", lease.getMetadata().getName(), e.getMessage());
      return UpdateControl.<GpuLease>noUpdate()
          .rescheduleAfter(e.after() == null ? CONFLICT_RETRY : e.after());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        LOG.debugf("%s: conflict, %s; retrying", lease.getMetadata().getName(), e.getMessage());
        // A GpuNode or the lease changed between the decision and the write: decide again.
        return UpdateControl.<GpuLease>noUpdate().rescheduleAfter(CONFLICT_RETRY);
      }
      throw e;
    }

    if (status.phase == LeasePhase.Active) {
      Instant due = nextAccrual(lease, accrual.period(), now);
      if (!now.isBefore(due)) {
        accrue(status, spec.gpus, now);
        due = nextAccrual(lease, accrual.period(), now);
      }
      next = untilNextAccrual(status, due, now);
    }
    metrics.observeAccrual(
        lease, status.startTime != null && Times.parse(status.startTime).isBefore(processStart));
    // A pass that moves no lease's phase moves no count: counting at every pass walked the
    // namespace's active leases (some 220 at size L) for nothing. A namespace this process has not
    // set since it started or lost track of is counted at the first pass.
    if (before == null
        || before.phase != status.phase
        || !quotas.synced(lease.getMetadata().getNamespace())) {
      syncQuota(lease);
    }
    if (StatusDiff.changed(before, status)) {
      // Only with the resourceVersion read: a lease's phase must never be overwritten from a
      // stale copy, by this process or another replica.
      if (!CheckedWrites.updateStatus(context.getClient(), lease)) {
        return afterConflict(lease, context, refreshes);
      }
    }
    if (status.phase.isFinal()) {
      // Only once the status says the lease ended do its GPUs go back to the market.
      binder.release(lease, sources);
      Duration kept = retention.remaining(lease, now);
      if (kept != null && (kept.isNegative() || kept.isZero())) {
        LOG.debugf(
            "%s: ended, its job gone, retention past; deleting", lease.getMetadata().getName());
        context.getClient().resource(lease).delete();
        return UpdateControl.noUpdate();
      }
      if (kept != null && (next == null || kept.compareTo(next) < 0)) {
        next = kept.plusMillis(50);
      }
    }
    UpdateControl<GpuLease> control = UpdateControl.noUpdate();
    return next == null ? control : control.rescheduleAfter(next);
  }

  /** Tries to bind a pending lease; returns when to try again. */
  private Duration bind(GpuLease lease, Instant now) {
    GpuLeaseStatus status = lease.getStatus();
    Long generation = lease.getMetadata().getGeneration();
    List<String> problems = SpecProblems.of(lease.getSpec());
    if (!problems.isEmpty()) {
      String message = "invalid spec: " + String.join("; ", problems);
      if (!message.equals(status.message)) {
        events.warning(lease, EventReason.InvalidSpec, message);
      }
      status.message = message;
      Conditions.set(status.conditions, "Bound", false, "InvalidSpec", message, generation, now);
      return null;
    }
    Decision decision = binder.bind(lease, request(lease, this::listedOffers, now), sources);
    if (decision instanceof Refusal refusal) {
      if (!refusal.message().equals(status.message)) {
        events.normal(lease, EventReason.LeasePending, refusal.message());
      }
      status.message = refusal.message();
      Conditions.set(
          status.conditions,
          "Bound",
          false,
          refusal.reason().name(),
          refusal.message(),
          generation,
          now);
      return PENDING_RETRY;
    }
    Placement placement = (Placement) decision;
    var spec = lease.getSpec();
    status.phase = LeasePhase.Active;
    status.offer = placement.offer().id();
    status.model = placement.model();
    status.pricePerGpuHour = placement.offer().price().toPlainString();
    status.currency = placement.offer().currency();
    status.startTime = Times.format(now);
    if (spec.duration != null) {
      status.endTime = Times.format(now.plus(Durations.parse(spec.duration)));
    } else if (spec.endTime != null) {
      status.endTime = Times.format(Instant.parse(spec.endTime));
    } else if (placement.offer().maxLease() != null) {
      status.endTime = Times.format(now.plus(placement.offer().maxLease()));
    }
    List<NodeAllocation> allocations = new ArrayList<>();
    placement
        .gpusByNode()
        .forEach(
            (node, gpus) -> {
              GpuNode n = sources.node(node);
              allocations.add(
                  new NodeAllocation(node, n == null ? null : n.getSpec().nodeName, gpus));
            });
    status.allocations = allocations;
    status.message =
        spec.gpus
            + " "
            + placement.model()
            + " GPUs from "
            + placement.offer().id()
            + " at "
            + status.pricePerGpuHour
            + " "
            + status.currency
            + "/h on "
            + String.join(", ", placement.gpusByNode().keySet());
    Conditions.set(status.conditions, "Bound", true, "Bound", status.message, generation, now);
    return null;
  }

  /**
   * When an active lease's cost is next refreshed: a period after it was last accrued (its start,
   * before the first refresh). Due a second early, so that a timer firing a little before it does
   * not wait a whole period more. Other events reconcile an active lease too (a batch's wake, a
   * retry scheduled before it bound): they write nothing until then, where recomputing the cost on
   * every pass wrote it, and the job's with it, each time.
   */
  static Instant nextAccrual(GpuLease lease, Duration period, Instant now) {
    return JobBilling.accruedUntil(lease, now).plus(period).minusSeconds(1);
  }

  /** Until the next refresh of the cost, or until the lease ends if sooner. */
  private static Duration untilNextAccrual(GpuLeaseStatus status, Instant due, Instant now) {
    Duration wait = Duration.between(now, due).plusSeconds(1);
    if (wait.isNegative()) {
      wait = Duration.ofSeconds(1);
    }
    if (status.endTime == null) {
      return wait;
    }
    Duration toEnd = Duration.between(now, Times.parse(status.endTime)).plusMillis(50);
    return toEnd.compareTo(wait) < 0 ? toEnd : wait;
  }

  /**
   * What a lease asks of the market; a lease naming an offer but no model takes the offer's, the
   * offers listed only then (10,000 of them at size L, for every bind).
   */
  static PlacementRequest request(
      GpuLease lease, java.util.function.Supplier<List<GpuOffer>> offers, Instant now) {
    GpuLeaseSpec spec = lease.getSpec();
    List<String> models = spec.models == null ? List.of() : spec.models;
    if (models.isEmpty() && spec.offerRef != null) {
      models =
          offers.get().stream()
              .filter(
                  o ->
                      MarketView.idOf(o).equals(spec.offerRef)
                          && o.getSpec() != null
                          && o.getSpec().model != null)
              .map(o -> o.getSpec().model)
              .toList();
    }
    int perNode = spec.gpusPerNode == null ? spec.gpus : spec.gpusPerNode;
    Duration duration =
        spec.duration != null
            ? Durations.parse(spec.duration)
            : spec.endTime != null ? Duration.between(now, Instant.parse(spec.endTime)) : null;
    return new PlacementRequest(
        lease.getMetadata().getNamespace(),
        models,
        spec.tier == null ? TierRequirement.ANY : spec.tier,
        spec.regions == null ? Set.of() : Set.copyOf(spec.regions),
        spec.minUptimeRatio,
        spec.requireVerified,
        spec.gpus / perNode,
        perNode,
        SpecProblems.price(spec.maxPricePerGpuHour),
        spec.currency == null ? "USD" : spec.currency,
        duration,
        spec.offerRef);
  }

  private void end(GpuLease lease, LeasePhase phase, Instant at, String why) {
    GpuLeaseStatus status = lease.getStatus();
    status.phase = phase;
    status.endTime = Times.format(at);
    accrue(status, lease.getSpec().gpus, at);
    status.message =
        "lease "
            + why
            + " at "
            + status.endTime
            + "; "
            + status.gpuSeconds
            + " GPU-seconds, cost "
            + status.cost
            + " "
            + status.currency;
    Conditions.set(
        status.conditions,
        "Bound",
        false,
        phase.name(),
        status.message,
        lease.getMetadata().getGeneration(),
        at);
    events.normal(
        lease,
        phase == LeasePhase.Expired ? EventReason.LeaseExpired : EventReason.LeaseReleased,
        status.message);
  }

  /** Recomputes GPU-seconds and cost from the start and end times: idempotent, restart-proof. */
  static void accrue(GpuLeaseStatus status, int gpus, Instant now) {
    if (status.startTime == null || status.pricePerGpuHour == null) {
      return;
    }
    Instant start = Times.parse(status.startTime);
    Instant end = now;
    if (status.endTime != null && Times.parse(status.endTime).isBefore(now)) {
      end = Times.parse(status.endTime);
    }
    long seconds = Math.max(0, Duration.between(start, end).getSeconds());
    status.gpuSeconds = gpus * seconds;
    status.cost = cost(status.gpuSeconds, status.pricePerGpuHour);
  }

  static String cost(long gpuSeconds, String pricePerGpuHour) {
    return new BigDecimal(pricePerGpuHour)
        .multiply(BigDecimal.valueOf(gpuSeconds))
        .divide(BigDecimal.valueOf(3600), 4, RoundingMode.HALF_UP)
        .toPlainString();
  }

  /**
   * Sets the tenant's quota to the GPUs of its active leases. The lease cache may not show yet a
   * lease this process just made Active (nor the lease in hand be the newest copy), and a quota
   * counted from it alone would refuse that lease's pods: leases made Active here count until this
   * process sees them end.
   */
  private void syncQuota(GpuLease lease) {
    String ns = lease.getMetadata().getNamespace();
    String uid = lease.getMetadata().getUid();
    LeasePhase phase = lease.getStatus().phase;
    boolean ended = phase.isFinal() || lease.getMetadata().getDeletionTimestamp() != null;
    if (ended) {
      forgetActive(ns, uid);
    }
    quotas.sync(ns, () -> activeGpus(ns, uid, ended ? null : phase, lease.getSpec().gpus));
  }

  /**
   * The GPUs of a namespace's active leases: those the cache shows Active, those this process made
   * Active that it does not show yet, and the lease reconciled as its phase now says ({@code null}
   * when it ended). A lease the cache shows is forgotten from {@link #activeHere}, which so holds
   * only the few binds whose watch events are on their way, not every active lease of the namespace
   * (at size L a copy of some 220 entries at every lease reconcile).
   */
  private int activeGpus(String ns, String uid, LeasePhase phase, int gpus) {
    Map<String, Integer> here = activeHere.getOrDefault(ns, Map.of());
    boolean prune = !here.isEmpty();
    int sum = 0;
    Integer known = null;
    for (GpuLease l : leases.byIndex(ACTIVE_INDEX, ns)) {
      String u = l.getMetadata().getUid();
      if (prune) {
        here.remove(u);
      }
      if (u.equals(uid)) {
        known = l.getSpec().gpus;
      } else {
        sum += l.getSpec().gpus;
      }
    }
    for (Map.Entry<String, Integer> e : here.entrySet()) {
      if (e.getKey().equals(uid)) {
        known = e.getValue();
      } else {
        sum += e.getValue();
      }
    }
    if (phase == LeasePhase.Active) {
      return sum + gpus;
    }
    return phase == null || known == null ? sum : sum + known;
  }

  // A namespace's map stays when it empties: removing it could lose a put racing with the removal.
  private void forgetActive(String namespace, String uid) {
    Map<String, Integer> active = activeHere.get(namespace);
    if (active != null) {
      active.remove(uid);
    }
  }

  @Override
  public DeleteControl cleanup(GpuLease lease, Context<GpuLease> context) {
    if (lease.getStatus() != null && lease.getStatus().phase == LeasePhase.Active) {
      accrue(lease.getStatus(), lease.getSpec().gpus, Instant.now());
      metrics.observeAccrual(
          lease, Times.parse(lease.getStatus().startTime).isBefore(processStart));
    }
    binder.release(lease, sources);
    metrics.forget(lease);
    if (lease.getStatus() != null) {
      lease.getStatus().phase = LeasePhase.Released;
    }
    syncQuota(lease);
    return DeleteControl.defaultDelete();
  }

  @Override
  public ErrorStatusUpdateControl<GpuLease> updateErrorStatus(
      GpuLease resource, Context<GpuLease> context, Exception e) {
    return ReconcileErrors.control(
        resource,
        context,
        e,
        r -> {
          if (r.getStatus() == null) {
            r.setStatus(new io.gpumarket.api.v1alpha1.GpuLeaseStatus());
          }
          return r.getStatus().conditions;
        });
  }
}
