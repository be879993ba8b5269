package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobSpec;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The steps of a ComputeJob's life, one reconcile at a time; every step is idempotent. This class
 * decides which step the job is at; {@link JobLeases}, {@link ReservedLeaseClaims}, {@link
 * JobReplicas}, {@link HostLoss} and {@link JobEnd} take them.
 */
@ApplicationScoped
public class JobRun {
  static final Duration WAIT = Duration.ofSeconds(15);

  /**
   * How long a job waiting on its lease's bind goes without a look of its own. The lease's watch
   * events wake it (its owner, or its {@code leaseRef}); a look every {@link #WAIT} besides only
   * repeated them, for every job of a queue that takes minutes to bind.
   */
  static final Duration WAIT_FOR_BIND = Duration.ofMinutes(5);

  private final MarketMetrics metrics;
  private final EventRecorder events;
  private final JobMemory memory = new JobMemory();
  private final OwnCreations creations = new OwnCreations();
  private final ReservedLeaseClaims claims = new ReservedLeaseClaims();
  private final JobLeases leases;
  private final JobEnd end;
  private final JobReplicas replicas;
  private final HostLoss hostLoss;

  public JobRun(
      KubernetesClient client,
      EventRecorder events,
      MarketMetrics metrics,
      @ConfigProperty(name = "gpumarket.node-failure-toleration", defaultValue = "PT5M")
          Duration nodeFailureToleration) {
    this.metrics = metrics;
    this.events = events;
    this.leases = new JobLeases(client, creations);
    this.end = new JobEnd(client, leases, memory, claims, events);
    this.replicas = new JobReplicas(client, memory, end, events, creations);
    this.hostLoss = new HostLoss(nodeFailureToleration, memory, end, replicas, events);
  }

  /** Where the job reconciler's informers hear of the leases and pods this process creates. */
  OwnCreations creations() {
    return creations;
  }

  /** The lease this job runs on now, counting a reschedule the cache may not show yet. */
  String currentLeaseName(ComputeJob job) {
    memory.catchUp(job);
    return JobLeases.name(job);
  }

  /**
   * Moves the job one step on; returns when to look again, or null to wait for an event. A job that
   * is still going is looked at again no later than its deadline.
   */
  Duration step(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      List<ComputeJob> sharers,
      Function<String, GpuNode> gpuNodes,
      Instant now) {
    memory.catchUp(job);
    Duration next = advance(job, lease, pods, sharers, gpuNodes, now);
    Instant deadline = deadline(job);
    if (deadline == null || job.getStatus().phase.isFinal()) {
      return next;
    }
    Duration left = Duration.between(now, deadline).plusMillis(50);
    return next == null || left.compareTo(next) < 0 ? left : next;
  }

  /** On deletion: stops the pods and releases the on-demand lease. */
  void cleanup(ComputeJob job, List<Pod> pods) {
    end.cleanup(job, pods);
  }

  private Duration advance(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      List<ComputeJob> sharers,
      Function<String, GpuNode> gpuNodes,
      Instant now) {
    ComputeJobStatus s = job.getStatus();
    var spec = job.getSpec();
    s.observedGeneration = job.getMetadata().getGeneration();
    if (s.phase == null) {
      s.phase = JobPhase.Pending;
    }
    if (s.attempts == null) {
      s.attempts = 0;
    }
    s.attempts = replicas.latestAttempt(job, pods);
    boolean onDemand = spec == null || spec.leaseRef == null;
    if (onDemand && lease != null && !JobLeases.ownedBy(lease, job)) {
      lease = null;
    }
    if (s.phase.isFinal()) {
      end.finish(job, lease, onDemand);
      JobBilling.refresh(job, lease, onDemand, now);
      return null;
    }
    if (spec.cancel) {
      return end.stop(
          job,
          lease,
          pods,
          onDemand,
          JobPhase.Cancelled,
          "Cancelled",
          "cancelled by its owner",
          now);
    }
    Instant deadline = deadline(job);
    if (deadline != null) {
      if (!now.isBefore(deadline)) {
        return end.stop(
            job,
            lease,
            pods,
            onDemand,
            JobPhase.Failed,
            "DeadlineExceeded",
            "activeDeadlineSeconds (" + spec.activeDeadlineSeconds + ") passed in phase " + s.phase,
            now);
      }
    }
    List<String> problems = SpecProblems.of(spec);
    if (!problems.isEmpty()) {
      waitFor(job, "InvalidSpec", "invalid spec: " + String.join("; ", problems), now, true);
      return null;
    }
    if (onDemand && lease == null && !s.nodes.isEmpty()) {
      // The job's status names nodes, so its lease was bound: the cache of leases may only lag the
      // cache of jobs (another replica bound it, or this process just started), and a job failed
      // for that would lose running pods. The API server says whether the lease is really gone.
      lease = leases.fetchOwned(job);
    }
    if (onDemand && lease == null) {
      if (!s.nodes.isEmpty()) {
        return end.stop(
            job,
            null,
            pods,
            true,
            JobPhase.Failed,
            "LeaseLost",
            "its GpuLease " + JobLeases.name(job) + " was deleted",
            now);
      }
      if (!leases.create(job)) {
        waitFor(
            job,
            "LeaseNameTaken",
            "a GpuLease named "
                + JobLeases.name(job)
                + " exists that this job does not own; rename the job",
            now,
            true);
        return null;
      }
      waitFor(job, "AwaitingLease", asked(spec), now, false);
      return WAIT_FOR_BIND;
    }
    if (!onDemand && lease == null) {
      waitFor(
          job,
          "LeaseNotFound",
          "GpuLease "
              + spec.leaseRef
              + " does not exist in namespace "
              + job.getMetadata().getNamespace(),
          now,
          false);
      return WAIT;
    }
    LeasePhase leasePhase =
        lease.getStatus() == null || lease.getStatus().phase == null
            ? LeasePhase.Pending
            : lease.getStatus().phase;
    if (leasePhase.isFinal() && !s.nodes.isEmpty() && JobReplicas.allSucceeded(job, pods)) {
      // The job finished and its lease was released, but its status did not say so yet.
      return end.succeed(job, lease, onDemand, now);
    }
    if (leasePhase.isFinal()) {
      return end.stop(
          job,
          lease,
          pods,
          onDemand,
          JobPhase.Failed,
          "LeaseEnded",
          "GpuLease "
              + JobLeases.name(job)
              + " is "
              + leasePhase
              + ": "
              + lease.getStatus().message,
          now);
    }
    if (leasePhase == LeasePhase.Pending) {
      String reason =
          Conditions.find(lease.getStatus() == null ? null : lease.getStatus().conditions, "Bound")
              .map(c -> c.getReason())
              .orElse("AwaitingLease");
      // Until the lease says more, the job's own lease is as it was made: one status write fewer.
      String message =
          lease.getStatus() != null && lease.getStatus().message != null
              ? lease.getStatus().message
              : onDemand
                  ? asked(spec)
                  : "waiting for the market to bind GpuLease " + JobLeases.name(job);
      waitFor(job, reason, message, now, false);
      return WAIT_FOR_BIND;
    }
    if (s.nodes.isEmpty()) {
      List<String> nodes =
          onDemand
              ? JobLeases.blocks(lease, spec.gpu.perReplica)
              : claims.claim(job, lease, sharers);
      if (nodes == null || nodes.size() < spec.replicas) {
        waitFor(
            job,
            "InsufficientLeaseCapacity",
            "GpuLease "
                + spec.leaseRef
                + " has no room for "
                + spec.replicas
                + " x "
                + spec.gpu.perReplica
                + " GPUs beside the jobs already on it",
            now,
            false);
        return WAIT;
      }
      s.nodes = new ArrayList<>(nodes.subList(0, spec.replicas));
    }
    bound(job, lease, onDemand, now);
    Duration hostCheck = hostLoss.check(job, lease, pods, onDemand, gpuNodes, now);
    if (job.getStatus().phase.isFinal() || job.getStatus().nodes.isEmpty()) {
      return hostCheck;
    }
    Duration next = replicas.run(job, lease, pods, onDemand, now);
    JobBilling.refresh(job, lease, onDemand, now);
    return hostCheck != null && next != null && hostCheck.compareTo(next) < 0 ? hostCheck : next;
  }

  /** Records in the job's status the lease its replicas were placed on. */
  private void bound(ComputeJob job, GpuLease lease, boolean onDemand, Instant now) {
    ComputeJobStatus s = job.getStatus();
    if (s.startTime == null) {
      s.startTime =
          onDemand && lease.getStatus().startTime != null
              ? lease.getStatus().startTime
              : Times.format(now);
    }
    if (memory.firstWaitMeasure(job) && s.attempts == 0) {
      metrics.observeJobWait(
          Math.max(
              0,
              Duration.between(Times.parse(job.getMetadata().getCreationTimestamp()), now)
                      .toMillis()
                  / 1000.0));
    }
    s.lease = JobLeases.name(job);
    s.offer = lease.getStatus().offer;
    s.model = lease.getStatus().model;
    s.pricePerGpuHour = lease.getStatus().pricePerGpuHour;
    s.currency = lease.getStatus().currency;
    Conditions.set(
        s.conditions,
        "Scheduled",
        true,
        "LeaseBound",
        job.getSpec().replicas
            + " replica(s) on "
            + String.join(", ", s.nodes)
            + " at "
            + s.pricePerGpuHour
            + " "
            + s.currency
            + "/h",
        s.observedGeneration,
        now);
  }

  private static String asked(ComputeJobSpec spec) {
    return "asked the market for "
        + spec.replicas
        + " x "
        + spec.gpu.perReplica
        + " GPUs of "
        + String.join(" or ", spec.gpu.models);
  }

  /** When the job fails for its deadline, or null without one. */
  private static Instant deadline(ComputeJob job) {
    Long seconds = job.getSpec() == null ? null : job.getSpec().activeDeadlineSeconds;
    return seconds == null
        ? null
        : Times.parse(job.getMetadata().getCreationTimestamp()).plusSeconds(seconds);
  }

  private void waitFor(ComputeJob job, String reason, String message, Instant now, boolean warn) {
    ComputeJobStatus s = job.getStatus();
    if (!message.equals(s.message)) {
      if (warn) {
        events.warning(job, EventReason.InvalidSpec, message);
      }
    }
    s.phase = JobPhase.Pending;
    s.message = message;
    Conditions.set(s.conditions, "Scheduled", false, reason, message, s.observedGeneration, now);
  }
}
