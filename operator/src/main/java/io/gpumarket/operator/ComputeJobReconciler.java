package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
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
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs a ComputeJob: leases its GPUs (on demand, or from {@code leaseRef}), runs one Pod per
 * replica on the leased nodes, follows the pods to an end with retries and a deadline, and returns
 * the GPUs when it ends. The steps live in {@link JobRun}.
 */
@ControllerConfiguration(
    name = "computejob",
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = Failsafe.HOURS, timeUnit = TimeUnit.HOURS),
    informer = @Informer(itemStore = LeanCaches.WithoutManagedFields.class))
public class ComputeJobReconciler implements Reconciler<ComputeJob>, Cleaner<ComputeJob> {
  static final String LEASE_REF_INDEX = "spec.leaseRef";
  static final String NODES_INDEX = "status.nodes";
  private final SharedInformer<GpuNode> gpuNodes;
  private final MarketCaches caches;
  private final JobRun run;
  private IndexerResourceCache<ComputeJob> jobs;
  private InformerEventSource<GpuLease, ComputeJob> leases;

  public ComputeJobReconciler(MarketCaches caches, JobRun run) {
    this.caches = caches;
    this.gpuNodes = caches.sharedNodes();
    this.run = run;
  }

  @Override
  public List<EventSource<?, ComputeJob>> prepareEventSources(
      EventSourceContext<ComputeJob> context) {
    jobs = context.getPrimaryCache();
    caches.registerJobs(jobs);
    jobs.addIndexer(
        LEASE_REF_INDEX,
        j ->
            j.getSpec() == null || j.getSpec().leaseRef == null
                ? List.of()
                : List.of(j.getMetadata().getNamespace() + "/" + j.getSpec().leaseRef));
    var pods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, ComputeJob.class)
                .withItemStore(new LeanCaches.WithoutManagedFields<>())
                .withLabelSelector(Labels.MANAGED_BY + "=" + Labels.MANAGER + "," + Labels.JOB)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(ComputeJob.class))
                .build(),
            context);
    var owned = Mappers.<GpuLease>fromOwnerReferences(ComputeJob.class);
    // The owner of the shared GpuLease informer: its cache must show the leases jobs create.
    leases =
        caches
            .sharedLeases()
            .own(
                LeanCaches.secondaries(GpuLease.class, ComputeJob.class)
                    .withSecondaryToPrimaryMapper(
                        lease -> {
                          Set<ResourceID> ids = new HashSet<>(owned.toPrimaryResourceIDs(lease));
                          String key =
                              lease.getMetadata().getNamespace()
                                  + "/"
                                  + lease.getMetadata().getName();
                          jobs.byIndex(LEASE_REF_INDEX, key)
                              .forEach(j -> ids.add(ResourceID.fromResource(j)));
                          return ids;
                        })
                    .build(),
                context);
    jobs.addIndexer(
        NODES_INDEX,
        j ->
            j.getStatus() == null
                ? List.of()
                : List.copyOf(new java.util.TreeSet<>(j.getStatus().nodes)));
    var nodeEvents =
        gpuNodes.<ComputeJob>listen(
            "gpunodes",
            null,
            ComputeJobReconciler::readinessChanged,
            null,
            node ->
                jobs.byIndex(NODES_INDEX, node.getMetadata().getName()).stream()
                    .map(ResourceID::fromResource)
                    .collect(java.util.stream.Collectors.toSet()));
    run.creations().attach(pods, leases);
    return List.of(pods, leases, nodeEvents);
  }

  /**
   * A job reads of its GpuNodes only whether they are ready, and since when ({@link HostLoss}): the
   * ledger changes with every bind on the node, and its uptime history as its figures move and
   * hourly, neither of which concerns the jobs running there.
   */
  static boolean readinessChanged(GpuNode now, GpuNode before) {
    return !Objects.equals(readiness(now), readiness(before));
  }

  private static String readiness(GpuNode node) {
    return node.getStatus() == null
        ? null
        : Conditions.find(node.getStatus().conditions, "Ready")
            .map(c -> c.getStatus() + "@" + c.getLastTransitionTime())
            .orElse(null);
  }

  @Override
  public UpdateControl<ComputeJob> reconcile(ComputeJob job, Context<ComputeJob> context) {
    return reconcile(job, context, 1);
  }

  private UpdateControl<ComputeJob> reconcile(
      ComputeJob job, Context<ComputeJob> context, int refreshes) {
    ComputeJobStatus before = StatusDiff.copy(job.getStatus());
    if (job.getStatus() == null) {
      job.setStatus(new ComputeJobStatus());
    }
    ReconcileErrors.clear(job.getStatus().conditions);
    GpuLease lease =
        leases
            .get(new ResourceID(run.currentLeaseName(job), job.getMetadata().getNamespace()))
            .orElse(null);
    List<Pod> pods = context.getSecondaryResources(Pod.class).stream().toList();
    Duration next =
        run.step(
            job,
            lease,
            pods,
            sharers(job),
            name -> gpuNodes.get(new ResourceID(name)).orElse(null),
            Instant.now());
    // Written with the resourceVersion it was computed from, not as JOSDK's JSON Patch of the
    // cached copy: when the cache lags this process's previous write, that patch's array indexes
    // land on the wrong condition, or on a path that no longer exists (422 Invalid).
    if (StatusDiff.changed(before, job.getStatus())
        && !CheckedWrites.updatePrimaryStatus(context, job)) {
      return CheckedWrites.afterConflict(
          context.getClient(),
          job,
          refreshes,
          (fresh, left) -> reconcile(fresh, context, left),
          CONFLICT_RETRY);
    }
    UpdateControl<ComputeJob> control = UpdateControl.noUpdate();
    return next == null ? control : control.rescheduleAfter(next);
  }

  private static final Duration CONFLICT_RETRY = Duration.ofSeconds(1);

  /**
   * The jobs on the same reserved lease as this one, none for a job on its own lease: looked up in
   * the index, since listing the namespace's jobs at every reconcile made the operator's CPU grow
   * with the square of the jobs.
   */
  private List<ComputeJob> sharers(ComputeJob job) {
    if (job.getSpec() == null || job.getSpec().leaseRef == null) {
      return List.of();
    }
    return jobs.byIndex(
        LEASE_REF_INDEX, job.getMetadata().getNamespace() + "/" + job.getSpec().leaseRef);
  }

  @Override
  public DeleteControl cleanup(ComputeJob job, Context<ComputeJob> context) {
    run.cleanup(job, context.getSecondaryResources(Pod.class).stream().toList());
    return DeleteControl.defaultDelete();
  }

  static boolean isFinal(GpuLease lease) {
    return lease.getStatus() != null
        && lease.getStatus().phase != null
        && lease.getStatus().phase.isFinal();
  }

  static boolean isActive(GpuLease lease) {
    return lease != null
        && lease.getStatus() != null
        && lease.getStatus().phase == LeasePhase.Active;
  }

  static boolean isFinal(ComputeJob job) {
    return job.getStatus() != null
        && job.getStatus().phase != null
        && job.getStatus().phase.isFinal();
  }

  static JobPhase phase(ComputeJob job) {
    return job.getStatus() == null || job.getStatus().phase == null
        ? JobPhase.Pending
        : job.getStatus().phase;
  }

  @Override
  public ErrorStatusUpdateControl<ComputeJob> updateErrorStatus(
      ComputeJob resource, Context<ComputeJob> context, Exception e) {
    return ReconcileErrors.control(
        resource,
        context,
        e,
        r -> {
          if (r.getStatus() == null) {
            r.setStatus(new io.gpumarket.api.v1alpha1.ComputeJobStatus());
          }
          return r.getStatus().conditions;
        });
  }
}
