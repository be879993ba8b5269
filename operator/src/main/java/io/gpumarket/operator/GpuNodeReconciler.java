package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.proof.Verifier;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Keeps a GpuNode's Ready condition and healthy GPU count in step with its host, and sweeps from
 * its ledger the holds of leases that no longer exist or have ended.
 */
// Not generation-aware: the node agent reports hardware and challenge answers in the status, and
// each must be looked at when it arrives, not at the next heartbeat or deadline.
@ControllerConfiguration(
    name = "gpunode",
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = Failsafe.HOURS, timeUnit = TimeUnit.HOURS),
    generationAwareEventProcessing = false,
    informer =
        @Informer(
            itemStore = LeanCaches.WithoutManagedFields.class,
            onUpdateFilter = GpuNodeReconciler.NeedsALook.class))
public class GpuNodeReconciler implements Reconciler<GpuNode> {
  /**
   * Passes a GpuNode's change when its spec, labels, annotations or deletion changed, or what its
   * node agent writes (the hardware seen, a challenge's answer). Not the ledger, which binders
   * write at every bind and release (a hold outliving its lease is swept when that lease's own
   * event arrives, see {@link #endsHolds}), nor what this reconciler wrote itself (readiness,
   * uptime, challenges issued), whose echo would only work the same status out again: at size L
   * these were two node reconciles a bound job, each a copy of the node, for nothing.
   */
  public static final class NeedsALook implements OnUpdateFilter<GpuNode> {
    @Override
    public boolean accept(GpuNode now, GpuNode before) {
      var a = now.getMetadata();
      var b = before.getMetadata();
      if (!Objects.equals(a.getGeneration(), b.getGeneration())
          || !Objects.equals(a.getLabels(), b.getLabels())
          || !Objects.equals(a.getAnnotations(), b.getAnnotations())
          || !Objects.equals(a.getDeletionTimestamp(), b.getDeletionTimestamp())) {
        return true;
      }
      GpuNodeStatus s = now.getStatus();
      GpuNodeStatus t = before.getStatus();
      if (s == null || t == null) {
        return s != t;
      }
      return StatusDiff.changed(s.observed, t.observed)
          || StatusDiff.changed(
              s.challenges == null ? null : s.challenges.answer,
              t.challenges == null ? null : t.challenges.answer);
    }
  }

  /**
   * Whether a lease's change can leave holds to sweep from its nodes' ledgers: it ended or is being
   * deleted. Its binds, accruals and messages cannot, and each woke the reconcile of every node it
   * holds.
   */
  static boolean endsHolds(GpuLease now, GpuLease before) {
    return ending(now) && !ending(before);
  }

  private static boolean ending(GpuLease lease) {
    return lease.getMetadata().getDeletionTimestamp() != null
        || ComputeJobReconciler.isFinal(lease);
  }

  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(GpuNodeReconciler.class);

  static final String NODE_NAME_INDEX = "spec.nodeName";
  private final MarketCaches caches;
  private final EventRecorder events;
  private InformerEventSource<Node, GpuNode> nodes;
  private final SharedInformer<GpuLease> leases;
  private InformerEventSource<Lease, GpuNode> heartbeats;
  private final String heartbeatNamespace;

  private final MarketMetrics metrics;
  private final Verification.Policy challengePolicy;

  /** Nonces already checked, so a replayed answer fails; bounded, oldest forgotten first. */
  private final Set<String> checkedNonces =
      java.util.Collections.newSetFromMap(
          java.util.Collections.synchronizedMap(
              new java.util.LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > 100_000;
                }
              }));

  public GpuNodeReconciler(
      MarketCaches caches,
      EventRecorder events,
      MarketMetrics metrics,
      @ConfigProperty(name = "gpumarket.heartbeat.namespace", defaultValue = "gpumarket-system")
          String heartbeatNamespace,
      @ConfigProperty(name = "gpumarket.challenge.size", defaultValue = "512") int challengeSize,
      @ConfigProperty(name = "gpumarket.challenge.samples", defaultValue = "16")
          int challengeSamples,
      @ConfigProperty(name = "gpumarket.challenge.period", defaultValue = "PT15M")
          Duration challengePeriod,
      @ConfigProperty(name = "gpumarket.challenge.overhead", defaultValue = "PT30S")
          Duration challengeOverhead,
      @ConfigProperty(name = "gpumarket.challenge.efficiency", defaultValue = "0.01")
          double efficiency,
      @ConfigProperty(name = "gpumarket.verification.accept-simulated", defaultValue = "false")
          boolean acceptSimulated) {
    this.caches = caches;
    this.leases = caches.sharedLeases();
    this.events = events;
    this.metrics = metrics;
    this.heartbeatNamespace = heartbeatNamespace;
    this.challengePolicy =
        new Verification.Policy(
            challengeSize,
            challengeSamples,
            challengePeriod,
            challengeOverhead,
            efficiency,
            acceptSimulated);
  }

  @Override
  public List<EventSource<?, GpuNode>> prepareEventSources(EventSourceContext<GpuNode> context) {
    var primaries = context.getPrimaryCache();
    caches.registerNodes(primaries);
    primaries.addIndexer(
        NODE_NAME_INDEX,
        n ->
            n.getSpec() == null || n.getSpec().nodeName == null
                ? List.of()
                : List.of(n.getSpec().nodeName));
    nodes =
        new InformerEventSource<>(
            LeanCaches.secondaries(Node.class, GpuNode.class)
                .withSecondaryToPrimaryMapper(
                    node ->
                        primaries.byIndex(NODE_NAME_INDEX, node.getMetadata().getName()).stream()
                            .map(ResourceID::fromResource)
                            .collect(Collectors.toSet()))
                .build(),
            context);
    // Read before its owner (the job controller) has listed, a lease is read from the API server.
    var leaseEvents =
        leases.<GpuNode>listen(
            "gpuleases",
            GpuNodeReconciler::ending,
            GpuNodeReconciler::endsHolds,
            null,
            lease ->
                lease.getStatus() == null
                    ? Set.of()
                    : lease.getStatus().allocations.stream()
                        .map(a -> new ResourceID(a.gpuNode))
                        .collect(Collectors.toSet()));
    heartbeats =
        new InformerEventSource<>(
            LeanCaches.secondaries(Lease.class, GpuNode.class)
                .withNamespaces(heartbeatNamespace)
                .withSecondaryToPrimaryMapper(
                    lease ->
                        lease.getMetadata().getLabels() == null
                                || !lease
                                    .getMetadata()
                                    .getLabels()
                                    .containsKey(Labels.HEARTBEAT_GPUNODE)
                            ? Set.of()
                            : Set.of(
                                new ResourceID(
                                    lease.getMetadata().getLabels().get(Labels.HEARTBEAT_GPUNODE))))
                .build(),
            context);
    caches.registerHeartbeats(heartbeats);
    return List.of(nodes, leaseEvents, heartbeats);
  }

  @Override
  public UpdateControl<GpuNode> reconcile(GpuNode gpuNode, Context<GpuNode> context) {
    var challenges = gpuNode.getStatus() == null ? null : gpuNode.getStatus().challenges;
    if (challenges != null && challenges.issued != null && challenges.answer == null) {
      // An answer is timed from when the operator sees it, so while one is due read the node
      // from the API server: a cache that lags (seen with the sandbox's embedded server) would
      // fail an honest agent. Challenges are out for seconds every quarter hour; this is cheap.
      GpuNode fresh =
          context
              .getClient()
              .resources(GpuNode.class)
              .withName(gpuNode.getMetadata().getName())
              .get();
      if (fresh != null) {
        return reconcile(fresh, context, 1);
      }
    }
    return reconcile(gpuNode, context, 1);
  }

  /** After a write conflict, reconciles once more from the API server's copy if it is newer. */
  private UpdateControl<GpuNode> afterConflict(
      GpuNode stale, Context<GpuNode> context, int refreshes) {
    return CheckedWrites.afterConflict(
        context.getClient(),
        stale,
        refreshes,
        (fresh, left) -> reconcile(fresh, context, left),
        Duration.ofMillis(200));
  }

  private UpdateControl<GpuNode> reconcile(
      GpuNode gpuNode, Context<GpuNode> context, int refreshes) {
    GpuNodeStatus before = StatusDiff.copy(gpuNode.getStatus());
    GpuNodeStatus status = gpuNode.getStatus() == null ? new GpuNodeStatus() : gpuNode.getStatus();
    gpuNode.setStatus(status);
    Instant now = Instant.now();
    Long generation = gpuNode.getMetadata().getGeneration();
    List<String> problems = SpecProblems.of(gpuNode.getSpec());
    String lastRenewal = null;
    // Looked at again at least every five minutes, and the moment a heartbeat would go stale.
    Duration recheck = Duration.ofMinutes(5);
    boolean wasReady = Conditions.isTrue(status.conditions, "Ready");
    // Events, metrics and checked nonces follow the status write: a write lost to a conflict is
    // reconciled again from fresh data and must not announce the same verdict twice.
    List<Runnable> onWritten = new ArrayList<>();
    if (!problems.isEmpty()) {
      status.allocatableGpus = 0;
      Conditions.set(
          status.conditions,
          "Ready",
          false,
          "InvalidSpec",
          String.join("; ", problems),
          generation,
          now);
    } else {
      Node node = nodes.get(new ResourceID(gpuNode.getSpec().nodeName)).orElse(null);
      Lease heartbeat =
          heartbeats
              .get(new ResourceID("gpunode-" + gpuNode.getMetadata().getName(), heartbeatNamespace))
              .orElse(null);
      NodeHealth.Assessment health = NodeHealth.assess(gpuNode, node, heartbeat, now);
      if (heartbeat != null && heartbeat.getSpec().getRenewTime() != null) {
        // Kept current only where the status is written anyway: heartbeats must not each cost a
        // write.
        lastRenewal = Times.format(heartbeat.getSpec().getRenewTime().toInstant());
        if (status.lastHeartbeatTime == null || health.ready() != wasReady) {
          status.lastHeartbeatTime = Times.format(heartbeat.getSpec().getRenewTime().toInstant());
        }
        if (health.ready()) {
          Duration untilStale =
              Duration.between(now, NodeHealth.staleAt(gpuNode, heartbeat)).plusSeconds(1);
          recheck = untilStale.compareTo(recheck) < 0 ? untilStale : recheck;
          var answer = status.challenges == null ? null : status.challenges.answer;
          Long elapsed = answer == null ? null : answer.elapsedMillis;
          Verifier.Verdict verdict =
              Verification.step(gpuNode, challengePolicy, checkedNonces, now);
          if (verdict != null) {
            onWritten.add(
                () -> {
                  if (answer != null) {
                    checkedNonces.add(answer.nonce);
                  }
                  metrics.observeChallenge(verdict.reason().name(), elapsed);
                  if (!verdict.passed()) {
                    events.warning(gpuNode, EventReason.ChallengeFailed, verdict.message());
                  }
                });
          }
          Duration untilChallenge = Verification.next(gpuNode, challengePolicy, now);
          recheck = untilChallenge.compareTo(recheck) < 0 ? untilChallenge : recheck;
        }
      }
      status.allocatableGpus = health.healthyGpus();
      Conditions.set(
          status.conditions,
          "Ready",
          health.ready(),
          health.reason(),
          health.message(),
          generation,
          now);
      if (Conditions.find(status.conditions, "Verified").isEmpty()) {
        Conditions.set(
            status.conditions,
            "Verified",
            Conditions.UNKNOWN,
            "AwaitingAgent",
            "no node agent has checked this host's GPUs yet",
            generation,
            now);
      }
      if (health.ready() != wasReady) {
        onWritten.add(
            () -> {
              if (health.ready()) {
                events.normal(gpuNode, EventReason.NodeReady, health.message());
              } else {
                events.warning(gpuNode, EventReason.NodeNotReady, health.message());
              }
            });
      }
    }
    status.observedGeneration = generation;
    if (problems.isEmpty()) {
      recordUptime(
          status,
          Conditions.isTrue(status.conditions, "Ready"),
          wasReady,
          now,
          lastRenewal,
          gpuNode.getSpec().heartbeat == null ? 10 : gpuNode.getSpec().heartbeat.intervalSeconds,
          uptimeRefreshMinutes(gpuNode.getMetadata().getName()));
    }
    Duration sweep = recheck;
    switch (sweepEndedLeases(gpuNode, context)) {
      case WRITTEN -> {
        // The whole status went with the swept ledger; look again at once, from fresh data.
        onWritten.forEach(Runnable::run);
        return UpdateControl.<GpuNode>noUpdate().rescheduleAfter(Duration.ofMillis(100));
      }
      case CONFLICT -> {
        return afterConflict(gpuNode, context, refreshes);
      }
      case NOTHING -> {}
    }
    if (status.leasedGpus == null && status.allocations.isEmpty()) {
      status.leasedGpus = 0;
    }
    if (StatusDiff.changed(before, status)) {
      // Checked against the resourceVersion read: the agent writes observed into the same status
      // and the binders the ledger, so a write from a stale copy must fail, not overwrite them.
      String readAt = gpuNode.getMetadata().getResourceVersion();
      if (!CheckedWrites.updateStatus(context.getClient(), gpuNode)) {
        return afterConflict(gpuNode, context, refreshes);
      }
      metrics.observeNodeStatusWrite(
          uptimeAlone(before, status)
              ? MarketMetrics.NodeWrite.UPTIME
              : MarketMetrics.NodeWrite.HEALTH);
      if (LOG.isDebugEnabled()) {
        LOG.debugf(
            "wrote the status of %s at rv %s: %s",
            gpuNode.getMetadata().getName(), readAt, StatusDiff.describe(before, status));
      }
    }
    onWritten.forEach(Runnable::run);
    return UpdateControl.<GpuNode>noUpdate().rescheduleAfter(sweep);
  }

  /**
   * Between 45 and 60 minutes, by name: hosts created or first seen together (a fleet applied at
   * once, an operator restart) would otherwise all refresh their history in the same minute.
   */
  static int uptimeRefreshMinutes(String nodeName) {
    return 45 + Math.floorMod(nodeName.hashCode(), 16);
  }

  /** Whether a status differs from the one before only in its uptime history and heartbeat time. */
  static boolean uptimeAlone(GpuNodeStatus before, GpuNodeStatus after) {
    if (before == null) {
      return false;
    }
    GpuNodeStatus same = StatusDiff.copy(after);
    same.uptime = before.uptime;
    same.lastHeartbeatTime = before.lastHeartbeatTime;
    return !StatusDiff.changed(before, same);
  }

  /**
   * Adds the minutes since the last record to the uptime history. Written when readiness changes,
   * when a ratio or the missed heartbeats it shows would move (at most every five minutes), and at
   * least every {@code refreshMinutes}; never per heartbeat. Minutes not yet written keep the state
   * of the Ready condition, which is written whenever it changes, so a restart rebuilds them the
   * same.
   */
  static void recordUptime(
      GpuNodeStatus status,
      boolean ready,
      boolean wasReady,
      Instant now,
      String lastRenewal,
      int heartbeatIntervalSeconds,
      int refreshMinutes) {
    var uptime =
        status.uptime == null ? new io.gpumarket.api.v1alpha1.UptimeStatus() : status.uptime;
    Long before = uptime.historyEndMinute;
    UptimeHistory history = UptimeHistory.from(uptime);
    if (before != null && ready != wasReady) {
      // The minutes since the last write held the state written then; only this one is new.
      history.record(now.minusSeconds(60), wasReady);
    }
    boolean advanced = history.record(now, ready);
    long sinceWritten = before == null ? Long.MAX_VALUE : now.getEpochSecond() / 60 - before;
    // A host that stays up shows the same figures all day: writing its history every five minutes
    // cost a fleet of 5,000 hosts 17 status writes a second, each sent to every GpuNode watcher.
    boolean due =
        ready != wasReady
            || (advanced
                && (sinceWritten >= refreshMinutes
                    || (sinceWritten >= 5
                        && history.figuresDiffer(uptime, heartbeatIntervalSeconds))));
    if (!due) {
      return;
    }
    history.writeTo(uptime, heartbeatIntervalSeconds);
    if (status.lastHeartbeatTime != null && lastRenewal != null) {
      status.lastHeartbeatTime = lastRenewal;
    }
    if (ready && uptime.upSince == null) {
      uptime.upSince = Times.format(now);
    } else if (!ready) {
      uptime.upSince = null;
    }
    status.uptime = uptime;
  }

  private static boolean holds(GpuLease lease, GpuAllocation a) {
    return lease != null
        && Objects.equals(lease.getMetadata().getUid(), a.leaseUid)
        && (lease.getStatus() == null
            || lease.getStatus().phase == null
            || !lease.getStatus().phase.isFinal());
  }

  /**
   * The ledger ({@code allocations}, {@code leasedGpus}) is written only by resourceVersion-checked
   * updates, never by this reconciler's status patch, which is computed from a cached copy.
   *
   * <p>Removes holds of leases that were deleted or have ended without returning their GPUs (an
   * operator stopped half way). A hold is removed only after a fresh read confirms its lease is
   * gone or final, since the cache may not have seen a new lease yet.
   */
  private enum Sweep {
    NOTHING,
    WRITTEN,
    CONFLICT
  }

  private Sweep sweepEndedLeases(GpuNode gpuNode, Context<GpuNode> context) {
    List<GpuAllocation> allocations = MarketView.allocations(gpuNode);
    List<GpuAllocation> kept = new ArrayList<>();
    for (GpuAllocation a : allocations) {
      var id = new ResourceID(a.lease.name, a.lease.namespace);
      if (holds(leases.get(id).orElse(null), a)
          || holds(
              context
                  .getClient()
                  .resources(GpuLease.class)
                  .inNamespace(a.lease.namespace)
                  .withName(a.lease.name)
                  .get(),
              a)) {
        kept.add(a);
      }
    }
    if (kept.size() == allocations.size()) {
      return Sweep.NOTHING;
    }
    GpuNode fresh = context.getClient().getKubernetesSerialization().clone(gpuNode);
    fresh.getStatus().allocations = kept;
    fresh.getStatus().leasedGpus = kept.stream().mapToInt(a -> a.gpus).sum();
    // A conflict means someone else wrote the ledger first; sweep again from fresh data.
    boolean written = CheckedWrites.updateStatus(context.getClient(), fresh);
    if (written) {
      metrics.observeNodeStatusWrite(MarketMetrics.NodeWrite.LEDGER);
    }
    org.jboss.logging.Logger.getLogger(GpuNodeReconciler.class)
        .debugf(
            "sweep %s at rv %s: %d -> %d holds, %s",
            gpuNode.getMetadata().getName(),
            gpuNode.getMetadata().getResourceVersion(),
            allocations.size(),
            kept.size(),
            written ? "written" : "conflict");
    return written ? Sweep.WRITTEN : Sweep.CONFLICT;
  }
}
