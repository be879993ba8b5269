package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.NodeAllocation;
import io.gpumarket.market.Durations;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The steps of a ComputeJob's life, one reconcile at a time; every step is idempotent. */
@ApplicationScoped
public class JobRun {
  static final Duration WAIT = Duration.ofSeconds(15);
  static final Duration REFRESH = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final LeaseBinder binder;
  private final EventRecorder events;
  private final MarketMetrics metrics;

  /**
   * Replicas placed on a reserved lease by this process and not yet in the cache: job UID to nodes.
   */
  private final Map<String, List<String>> claims = new ConcurrentHashMap<>();

  /** Jobs whose wait this process has measured, so a stale cache read does not measure it twice. */
  private final Set<String> waitMeasured = ConcurrentHashMap.newKeySet();

  /** The latest attempt this process started per job, ahead of a cache that may lag. */
  private final Map<String, Integer> latestAttempt = new ConcurrentHashMap<>();

  /** The latest on-demand lease generation per job, ahead of a cache that may lag. */
  private final Map<String, Integer> latestGeneration = new ConcurrentHashMap<>();

  private final Duration nodeFailureToleration;

  public JobRun(
      KubernetesClient client,
      LeaseBinder binder,
      EventRecorder events,
      MarketMetrics metrics,
      @ConfigProperty(name = "gpumarket.node-failure-toleration", defaultValue = "PT5M")
          Duration nodeFailureToleration) {
    this.client = client;
    this.binder = binder;
    this.events = events;
    this.metrics = metrics;
    this.nodeFailureToleration = nodeFailureToleration;
  }

  /**
   * The lease a job runs on: its leaseRef, or its own on-demand lease, named after the job and its
   * UID so that a job deleted and created again under the same name gets a new one.
   */
  /** The lease this job runs on now, counting a reschedule the cache may not show yet. */
  String currentLeaseName(ComputeJob job) {
    catchUp(job);
    return leaseName(job);
  }

  /** Applies a reschedule this process made that the cached status does not show yet. */
  private void catchUp(ComputeJob job) {
    Integer known = latestGeneration.get(job.getMetadata().getUid());
    ComputeJobStatus s = job.getStatus();
    if (known != null && s != null && (s.leaseGeneration == null || s.leaseGeneration < known)) {
      s.leaseGeneration = known;
      s.nodes = new ArrayList<>();
      s.phase = JobPhase.Pending;
    }
  }

  static String leaseName(ComputeJob job) {
    if (job.getSpec() != null && job.getSpec().leaseRef != null) {
      return job.getSpec().leaseRef;
    }
    String uid = job.getMetadata().getUid();
    Integer generation = job.getStatus() == null ? null : job.getStatus().leaseGeneration;
    return job.getMetadata().getName()
        + "-"
        + (uid == null ? "" : uid.substring(0, Math.min(8, uid.length())))
        + (generation == null || generation <= 1 ? "" : "-r" + generation);
  }

  /**
   * Moves the job one step on; returns when to look again, or null to wait for an event. A job that
   * is still going is looked at again no later than its deadline.
   */
  Duration step(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      List<ComputeJob> neighbours,
      java.util.function.Function<String, GpuNode> gpuNodes,
      Instant now) {
    catchUp(job);
    Duration next = advance(job, lease, pods, neighbours, gpuNodes, now);
    Instant deadline = deadline(job);
    if (deadline == null || job.getStatus().phase.isFinal()) {
      return next;
    }
    Duration left = Duration.between(now, deadline).plusMillis(50);
    return next == null || left.compareTo(next) < 0 ? left : next;
  }

  private Duration advance(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      List<ComputeJob> neighbours,
      java.util.function.Function<String, GpuNode> gpuNodes,
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
    // Never fall back to an attempt already replaced: the cached status or pods may lag our writes.
    int seen = latestAttempt.getOrDefault(job.getMetadata().getUid(), 0);
    for (Pod p : pods) {
      String a =
          p.getMetadata().getLabels() == null
              ? null
              : p.getMetadata().getLabels().get(Labels.ATTEMPT);
      if (a != null && a.matches("[0-9]{1,6}")) {
        seen = Math.max(seen, Integer.parseInt(a));
      }
    }
    s.attempts = Math.max(s.attempts, seen);
    boolean onDemand = spec == null || spec.leaseRef == null;
    if (onDemand && lease != null && !ownedBy(lease, job)) {
      lease = null;
    }
    if (s.phase.isFinal()) {
      finish(job, lease, onDemand);
      refreshCost(job, lease, onDemand, now);
      return null;
    }
    if (spec.cancel) {
      return stop(
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
        return stop(
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
    if (onDemand && lease == null) {
      if (!s.nodes.isEmpty()) {
        return stop(
            job,
            null,
            pods,
            true,
            JobPhase.Failed,
            "LeaseLost",
            "its GpuLease " + leaseName(job) + " was deleted",
            now);
      }
      if (leaseNameTaken(job)) {
        waitFor(
            job,
            "LeaseNameTaken",
            "a GpuLease named "
                + leaseName(job)
                + " exists that this job does not own; rename the job",
            now,
            true);
        return null;
      }
      createLease(job);
      waitFor(
          job,
          "AwaitingLease",
          "asked the market for "
              + spec.replicas
              + " x "
              + spec.gpu.perReplica
              + " GPUs of "
              + String.join(" or ", spec.gpu.models),
          now,
          false);
      return WAIT;
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
    if (leasePhase.isFinal() && !s.nodes.isEmpty() && allSucceeded(job, pods)) {
      // The job finished and its lease was released, but its status did not say so yet.
      return succeed(job, lease, onDemand, now);
    }
    if (leasePhase.isFinal()) {
      return stop(
          job,
          lease,
          pods,
          onDemand,
          JobPhase.Failed,
          "LeaseEnded",
          "GpuLease " + leaseName(job) + " is " + leasePhase + ": " + lease.getStatus().message,
          now);
    }
    if (leasePhase == LeasePhase.Pending) {
      String reason =
          Conditions.find(lease.getStatus() == null ? null : lease.getStatus().conditions, "Bound")
              .map(c -> c.getReason())
              .orElse("AwaitingLease");
      String message =
          lease.getStatus() == null || lease.getStatus().message == null
              ? "waiting for the market to bind GpuLease " + leaseName(job)
              : lease.getStatus().message;
      waitFor(job, reason, message, now, false);
      return WAIT;
    }
    if (s.nodes.isEmpty()) {
      List<String> nodes =
          onDemand ? blocks(lease, spec.gpu.perReplica) : claim(job, lease, neighbours);
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
    if (s.startTime == null) {
      s.startTime =
          onDemand && lease.getStatus().startTime != null
              ? lease.getStatus().startTime
              : Times.format(now);
    }
    if (waitMeasured.add(job.getMetadata().getUid()) && s.attempts == 0) {
      metrics.observeJobWait(
          Math.max(
              0,
              Duration.between(Times.parse(job.getMetadata().getCreationTimestamp()), now)
                      .toMillis()
                  / 1000.0));
    }
    s.lease = leaseName(job);
    s.offer = lease.getStatus().offer;
    s.model = lease.getStatus().model;
    s.pricePerGpuHour = lease.getStatus().pricePerGpuHour;
    s.currency = lease.getStatus().currency;
    Conditions.set(
        s.conditions,
        "Scheduled",
        true,
        "LeaseBound",
        spec.replicas
            + " replica(s) on "
            + String.join(", ", s.nodes)
            + " at "
            + s.pricePerGpuHour
            + " "
            + s.currency
            + "/h",
        s.observedGeneration,
        now);
    Duration hostCheck = checkHosts(job, lease, pods, onDemand, gpuNodes, now);
    if (job.getStatus().phase.isFinal() || job.getStatus().nodes.isEmpty()) {
      return hostCheck;
    }
    Duration next = runPods(job, lease, pods, onDemand, now);
    refreshCost(job, lease, onDemand, now);
    return hostCheck != null && next != null && hostCheck.compareTo(next) < 0 ? hostCheck : next;
  }

  /**
   * Hosts that went down under a running job: the job says so at once; past the toleration its pods
   * stop, its on-demand lease is released (billed up to now), and it is leased again elsewhere, or
   * failed, as its nodeFailurePolicy says. Returns when to look again, or null.
   */
  private Duration checkHosts(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      boolean onDemand,
      java.util.function.Function<String, GpuNode> gpuNodes,
      Instant now) {
    ComputeJobStatus s = job.getStatus();
    Instant downSince = null;
    List<String> down = new ArrayList<>();
    for (String name : new java.util.TreeSet<>(s.nodes)) {
      GpuNode node = gpuNodes.apply(name);
      var ready =
          node == null || node.getStatus() == null
              ? null
              : Conditions.find(node.getStatus().conditions, "Ready").orElse(null);
      if (ready != null && Conditions.FALSE.equals(ready.getStatus())) {
        down.add(name);
        Instant since = Times.parse(ready.getLastTransitionTime());
        downSince = downSince == null || since.isAfter(downSince) ? since : downSince;
      }
    }
    if (down.isEmpty()) {
      s.conditions.removeIf(c -> "HostLost".equals(c.getType()));
      return null;
    }
    Instant deadline = downSince.plus(nodeFailureToleration);
    String what = String.join(", ", down) + " not ready since " + Times.format(downSince);
    if (now.isBefore(deadline)) {
      Conditions.set(
          s.conditions,
          "HostLost",
          true,
          "HostNotReady",
          what
              + "; "
              + (job.getSpec().nodeFailurePolicy == io.gpumarket.api.v1alpha1.NodeFailurePolicy.Fail
                  ? "failing"
                  : "rescheduling")
              + " the job at "
              + Times.format(deadline)
              + " unless it comes back",
          s.observedGeneration,
          now);
      return Duration.between(now, deadline).plusMillis(50);
    }
    if (!onDemand
        || job.getSpec().nodeFailurePolicy == io.gpumarket.api.v1alpha1.NodeFailurePolicy.Fail) {
      return stop(job, lease, pods, onDemand, JobPhase.Failed, "HostLost", what, now);
    }
    deletePods(pods.stream().filter(p -> !"Succeeded".equals(phaseOf(p))).toList());
    GpuLease billed = client.getKubernetesSerialization().clone(lease);
    GpuLeaseReconciler.accrue(billed.getStatus(), billed.getSpec().gpus, now);
    finish(job, lease, true);
    long priorSeconds =
        (s.priorGpuSeconds == null ? 0 : s.priorGpuSeconds)
            + (billed.getStatus().gpuSeconds == null ? 0 : billed.getStatus().gpuSeconds);
    java.math.BigDecimal priorCost =
        (s.priorCost == null ? java.math.BigDecimal.ZERO : new java.math.BigDecimal(s.priorCost))
            .add(
                billed.getStatus().cost == null
                    ? java.math.BigDecimal.ZERO
                    : new java.math.BigDecimal(billed.getStatus().cost));
    s.priorGpuSeconds = priorSeconds;
    s.priorCost = priorCost.toPlainString();
    s.gpuSeconds = priorSeconds;
    s.cost = s.priorCost;
    s.leaseGeneration = (s.leaseGeneration == null ? 1 : s.leaseGeneration) + 1;
    latestGeneration.put(job.getMetadata().getUid(), s.leaseGeneration);
    s.attempts = s.attempts + 1;
    latestAttempt.put(job.getMetadata().getUid(), s.attempts);
    s.nodes = new ArrayList<>();
    s.phase = JobPhase.Pending;
    s.message = what + "; leasing GPUs elsewhere";
    s.conditions.removeIf(c -> "HostLost".equals(c.getType()));
    Conditions.set(
        s.conditions, "Scheduled", false, "HostLost", s.message, s.observedGeneration, now);
    Conditions.set(
        s.conditions, "Running", false, "HostLost", s.message, s.observedGeneration, now);
    events.warning(job, EventReason.JobRescheduled, s.message);
    return Duration.ofMillis(200);
  }

  /** When the job fails for its deadline, or null without one. */
  private static Instant deadline(ComputeJob job) {
    Long seconds = job.getSpec() == null ? null : job.getSpec().activeDeadlineSeconds;
    return seconds == null
        ? null
        : Times.parse(job.getMetadata().getCreationTimestamp()).plusSeconds(seconds);
  }

  private Duration runPods(
      ComputeJob job, GpuLease lease, List<Pod> pods, boolean onDemand, Instant now) {
    ComputeJobStatus s = job.getStatus();
    var spec = job.getSpec();
    if (s.attempts == 0) {
      s.attempts = 1;
    }
    List<Pod> current = ofAttempt(pods, s.attempts);
    Pod failed = current.stream().filter(p -> "Failed".equals(phaseOf(p))).findFirst().orElse(null);
    if (failed != null) {
      String why = "pod " + failed.getMetadata().getName() + " failed" + podReason(failed);
      if (s.attempts <= spec.backoffLimit) {
        deletePods(current);
        s.attempts++;
        latestAttempt.put(job.getMetadata().getUid(), s.attempts);
        events.warning(
            job,
            EventReason.JobRetrying,
            "attempt " + (s.attempts - 1) + ": " + why + "; starting attempt " + s.attempts);
        current = List.of();
      } else {
        return stop(
            job,
            lease,
            pods,
            onDemand,
            JobPhase.Failed,
            "BackoffLimitExceeded",
            "attempt "
                + s.attempts
                + ": "
                + why
                + "; backoffLimit "
                + spec.backoffLimit
                + " reached",
            now);
      }
    }
    createMissingPods(job, lease, current);
    long succeeded = current.stream().filter(p -> "Succeeded".equals(phaseOf(p))).count();
    long running = current.stream().filter(p -> "Running".equals(phaseOf(p))).count();
    if (succeeded == spec.replicas) {
      return succeed(job, lease, onDemand, now);
    }
    if (current.size() == spec.replicas && running + succeeded == spec.replicas && running > 0) {
      if (s.phase != JobPhase.Running) {
        events.normal(
            job,
            EventReason.JobRunning,
            "all " + spec.replicas + " replica(s) running on " + String.join(", ", s.nodes));
      }
      s.phase = JobPhase.Running;
      s.message = running + " replica(s) running, " + succeeded + " succeeded";
      Conditions.set(
          s.conditions,
          "Running",
          true,
          "AllReplicasRunning",
          s.message,
          s.observedGeneration,
          now);
    } else {
      s.phase = JobPhase.Scheduled;
      s.message =
          "attempt "
              + s.attempts
              + ": "
              + running
              + " of "
              + spec.replicas
              + " replica(s) running, waiting for the rest to start";
      Conditions.set(
          s.conditions, "Running", false, "PodsStarting", s.message, s.observedGeneration, now);
    }
    return REFRESH;
  }

  private void createMissingPods(ComputeJob job, GpuLease lease, List<Pod> current) {
    ComputeJobStatus s = job.getStatus();
    Map<String, String> kubeNode = new HashMap<>();
    for (NodeAllocation a : lease.getStatus().allocations) {
      kubeNode.put(a.gpuNode, a.nodeName);
    }
    int created = 0;
    for (int replica = 0; replica < job.getSpec().replicas; replica++) {
      String name = JobPods.name(job, s.attempts, replica);
      if (current.stream().anyMatch(p -> name.equals(p.getMetadata().getName()))) {
        continue;
      }
      Pod pod =
          JobPods.build(
              job, s.attempts, replica, kubeNode.get(s.nodes.get(replica)), leaseName(job));
      try {
        client.pods().inNamespace(job.getMetadata().getNamespace()).resource(pod).create();
        created++;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
    if (created > 0) {
      events.normal(
          job,
          EventReason.PodsCreated,
          "attempt "
              + s.attempts
              + ": created "
              + created
              + " pod(s) on "
              + String.join(", ", s.nodes));
    }
  }

  private Duration succeed(ComputeJob job, GpuLease lease, boolean onDemand, Instant now) {
    ComputeJobStatus s = job.getStatus();
    s.phase = JobPhase.Succeeded;
    s.completionTime = Times.format(now);
    s.message = "every replica succeeded";
    Conditions.set(
        s.conditions, "Running", false, "Completed", s.message, s.observedGeneration, now);
    Conditions.set(
        s.conditions, "Complete", true, "Succeeded", s.message, s.observedGeneration, now);
    finish(job, lease, onDemand);
    refreshCost(job, lease, onDemand, now);
    events.normal(
        job, EventReason.JobSucceeded, s.message + " after " + s.attempts + " attempt(s)");
    return null;
  }

  private boolean allSucceeded(ComputeJob job, List<Pod> pods) {
    List<Pod> current = ofAttempt(pods, job.getStatus().attempts);
    return current.size() == job.getSpec().replicas
        && current.stream().allMatch(p -> "Succeeded".equals(phaseOf(p)));
  }

  private Duration stop(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      boolean onDemand,
      JobPhase phase,
      String reason,
      String message,
      Instant now) {
    ComputeJobStatus s = job.getStatus();
    for (Pod p : pods) {
      String ph = phaseOf(p);
      if (!"Succeeded".equals(ph) && !"Failed".equals(ph)) {
        client
            .pods()
            .inNamespace(p.getMetadata().getNamespace())
            .withName(p.getMetadata().getName())
            .delete();
      }
    }
    s.phase = phase;
    s.completionTime = Times.format(now);
    s.message = message;
    Conditions.set(s.conditions, "Running", false, reason, message, s.observedGeneration, now);
    if (phase == JobPhase.Failed) {
      Conditions.set(s.conditions, "Failed", true, reason, message, s.observedGeneration, now);
      events.warning(
          job,
          reason.equals("DeadlineExceeded") ? EventReason.DeadlineExceeded : EventReason.JobFailed,
          message);
    } else {
      Conditions.set(s.conditions, "Complete", false, reason, message, s.observedGeneration, now);
      events.normal(job, EventReason.JobCancelled, message);
    }
    if (s.nodes.isEmpty()) {
      Conditions.set(s.conditions, "Scheduled", false, reason, message, s.observedGeneration, now);
    }
    finish(job, lease, onDemand);
    refreshCost(job, lease, onDemand, now);
    return null;
  }

  /** Returns an ended job's on-demand GPUs to the market. */
  private void finish(ComputeJob job, GpuLease lease, boolean onDemand) {
    claims.remove(job.getMetadata().getUid());
    waitMeasured.remove(job.getMetadata().getUid());
    latestAttempt.remove(job.getMetadata().getUid());
    latestGeneration.remove(job.getMetadata().getUid());
    if (onDemand
        && lease != null
        && !lease.getSpec().release
        && !ComputeJobReconciler.isFinal(lease)) {
      client
          .resources(GpuLease.class)
          .inNamespace(lease.getMetadata().getNamespace())
          .withName(lease.getMetadata().getName())
          .edit(
              l -> {
                l.getSpec().release = true;
                return l;
              });
    }
  }

  /**
   * On deletion: stops the pods and releases the on-demand lease, which is kept (no longer owned by
   * the job) as the record of what the job was billed.
   */
  void cleanup(ComputeJob job) {
    claims.remove(job.getMetadata().getUid());
    waitMeasured.remove(job.getMetadata().getUid());
    latestAttempt.remove(job.getMetadata().getUid());
    latestGeneration.remove(job.getMetadata().getUid());
    String ns = job.getMetadata().getNamespace();
    client.pods().inNamespace(ns).withLabel(Labels.JOB, job.getMetadata().getName()).delete();
    if (job.getSpec() != null && job.getSpec().leaseRef != null) {
      return;
    }
    var leaseResource = client.resources(GpuLease.class).inNamespace(ns).withName(leaseName(job));
    GpuLease lease = leaseResource.get();
    if (lease != null && ownedBy(lease, job)) {
      leaseResource.edit(
          l -> {
            l.getSpec().release = true;
            l.getMetadata().setOwnerReferences(new ArrayList<>());
            return l;
          });
    }
  }

  private void createLease(ComputeJob job) {
    var spec = job.getSpec();
    GpuLease lease = new GpuLease();
    lease.getMetadata().setName(leaseName(job));
    lease.getMetadata().setNamespace(job.getMetadata().getNamespace());
    lease
        .getMetadata()
        .setLabels(
            Map.of(Labels.MANAGED_BY, Labels.MANAGER, Labels.JOB, job.getMetadata().getName()));
    lease.getMetadata().setOwnerReferences(List.of(JobPods.owner(job)));
    GpuLeaseSpec ls = new GpuLeaseSpec();
    ls.models = spec.gpu.models;
    ls.tier = spec.gpu.tier;
    ls.regions = spec.gpu.regions;
    ls.minUptimeRatio = spec.gpu.minUptimeRatio;
    ls.requireVerified = spec.gpu.requireVerified;
    ls.maxPricePerGpuHour = spec.maxPricePerGpuHour;
    ls.currency = spec.currency;
    ls.gpus = spec.replicas * spec.gpu.perReplica;
    ls.gpusPerNode = spec.gpu.perReplica;
    if (spec.activeDeadlineSeconds != null) {
      ls.duration = Durations.format(Duration.ofSeconds(spec.activeDeadlineSeconds));
    }
    lease.setSpec(ls);
    try {
      client
          .resources(GpuLease.class)
          .inNamespace(job.getMetadata().getNamespace())
          .resource(lease)
          .create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  private boolean leaseNameTaken(ComputeJob job) {
    GpuLease existing =
        client
            .resources(GpuLease.class)
            .inNamespace(job.getMetadata().getNamespace())
            .withName(leaseName(job))
            .get();
    return existing != null && !ownedBy(existing, job);
  }

  /** The GpuNode of each block of an on-demand lease, one per replica. */
  static List<String> blocks(GpuLease lease, int perReplica) {
    List<String> nodes = new ArrayList<>();
    for (NodeAllocation a : lease.getStatus().allocations) {
      for (int i = 0; i < a.gpus / perReplica; i++) {
        nodes.add(a.gpuNode);
      }
    }
    return nodes;
  }

  /** Places a job's replicas on the free part of a reserved lease, best fit; null if it cannot. */
  private List<String> claim(ComputeJob job, GpuLease lease, List<ComputeJob> neighbours) {
    synchronized (binder) {
      Map<String, Integer> free = new HashMap<>();
      lease.getStatus().allocations.forEach(a -> free.merge(a.gpuNode, a.gpus, Integer::sum));
      for (ComputeJob other : neighbours) {
        if (Objects.equals(other.getMetadata().getUid(), job.getMetadata().getUid())
            || !Objects.equals(leaseName(other), leaseName(job))
            || other.getSpec().leaseRef == null
            || ComputeJobReconciler.isFinal(other)) {
          continue;
        }
        List<String> used =
            other.getStatus() != null && !other.getStatus().nodes.isEmpty()
                ? other.getStatus().nodes
                : claims.getOrDefault(other.getMetadata().getUid(), List.of());
        used.forEach(n -> free.merge(n, -other.getSpec().gpu.perReplica, Integer::sum));
      }
      int per = job.getSpec().gpu.perReplica;
      List<String> order = new ArrayList<>(free.keySet());
      order.sort(Comparator.comparingInt((String n) -> free.get(n)).thenComparing(n -> n));
      List<String> placed = new ArrayList<>();
      for (String n : order) {
        while (placed.size() < job.getSpec().replicas && free.get(n) >= per) {
          placed.add(n);
          free.merge(n, -per, Integer::sum);
        }
      }
      if (placed.size() < job.getSpec().replicas) {
        return null;
      }
      claims.put(job.getMetadata().getUid(), placed);
      return placed;
    }
  }

  private void refreshCost(ComputeJob job, GpuLease lease, boolean onDemand, Instant now) {
    ComputeJobStatus s = job.getStatus();
    if (lease == null || lease.getStatus() == null || s.startTime == null) {
      return;
    }
    if (onDemand) {
      if (lease.getStatus().gpuSeconds != null) {
        long prior = s.priorGpuSeconds == null ? 0 : s.priorGpuSeconds;
        s.gpuSeconds = prior + lease.getStatus().gpuSeconds;
        s.cost =
            s.priorCost == null
                ? lease.getStatus().cost
                : new java.math.BigDecimal(s.priorCost)
                    .add(new java.math.BigDecimal(lease.getStatus().cost))
                    .toPlainString();
      }
      return;
    }
    Instant end = s.completionTime == null ? now : Times.parse(s.completionTime);
    long seconds = Math.max(0, Duration.between(Times.parse(s.startTime), end).getSeconds());
    s.gpuSeconds = (long) job.getSpec().replicas * job.getSpec().gpu.perReplica * seconds;
    s.cost = GpuLeaseReconciler.cost(s.gpuSeconds, s.pricePerGpuHour);
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

  private void deletePods(List<Pod> pods) {
    for (Pod p : pods) {
      client
          .pods()
          .inNamespace(p.getMetadata().getNamespace())
          .withName(p.getMetadata().getName())
          .delete();
    }
  }

  private static List<Pod> ofAttempt(List<Pod> pods, int attempt) {
    String a = Integer.toString(attempt);
    return pods.stream()
        .filter(
            p ->
                p.getMetadata().getLabels() != null
                    && a.equals(p.getMetadata().getLabels().get(Labels.ATTEMPT)))
        .toList();
  }

  static String phaseOf(Pod p) {
    return p.getStatus() == null || p.getStatus().getPhase() == null
        ? "Pending"
        : p.getStatus().getPhase();
  }

  private static String podReason(Pod p) {
    if (p.getStatus() == null) {
      return "";
    }
    String r = p.getStatus().getReason();
    String m = p.getStatus().getMessage();
    if (r != null) {
      return " (" + r + (m == null ? "" : ": " + m) + ")";
    }
    // A kubelet gives a pod a reason only when it evicts or rejects it; a container that exits
    // non-zero says why in its own state.
    var containers = p.getStatus().getContainerStatuses();
    for (var c : containers == null ? List.<ContainerStatus>of() : containers) {
      var t = c.getState() == null ? null : c.getState().getTerminated();
      if (t != null && t.getExitCode() != null && t.getExitCode() != 0) {
        return " (container "
            + c.getName()
            + " exited with code "
            + t.getExitCode()
            + (t.getReason() == null ? "" : ", " + t.getReason())
            + ")";
      }
    }
    return "";
  }

  private static boolean ownedBy(GpuLease lease, ComputeJob job) {
    List<OwnerReference> refs = lease.getMetadata().getOwnerReferences();
    return refs != null
        && refs.stream().anyMatch(r -> Objects.equals(r.getUid(), job.getMetadata().getUid()));
  }
}
