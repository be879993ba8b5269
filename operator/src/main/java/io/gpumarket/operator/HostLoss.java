package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.NodeFailurePolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Hosts that went down under a running job: the job says so at once; past the toleration its pods
 * stop, its on-demand lease is released (billed up to now), and it is leased again elsewhere, or
 * failed, as its nodeFailurePolicy says.
 */
final class HostLoss {
  private final Duration toleration;
  private final JobMemory memory;
  private final JobEnd end;
  private final JobReplicas replicas;
  private final EventRecorder events;

  HostLoss(
      Duration toleration,
      JobMemory memory,
      JobEnd end,
      JobReplicas replicas,
      EventRecorder events) {
    this.toleration = toleration;
    this.memory = memory;
    this.end = end;
    this.replicas = replicas;
    this.events = events;
  }

  /** Returns when to look again, or null. */
  Duration check(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      boolean onDemand,
      Function<String, GpuNode> gpuNodes,
      Instant now) {
    ComputeJobStatus s = job.getStatus();
    Instant downSince = null;
    List<String> down = new ArrayList<>();
    for (String name : new TreeSet<>(s.nodes)) {
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
    Instant deadline = downSince.plus(toleration);
    String what = String.join(", ", down) + " not ready since " + Times.format(downSince);
    boolean fail = job.getSpec().nodeFailurePolicy == NodeFailurePolicy.Fail;
    if (now.isBefore(deadline)) {
      Conditions.set(
          s.conditions,
          "HostLost",
          true,
          "HostNotReady",
          what
              + "; "
              + (fail ? "failing" : "rescheduling")
              + " the job at "
              + Times.format(deadline)
              + " unless it comes back",
          s.observedGeneration,
          now);
      return Duration.between(now, deadline).plusMillis(50);
    }
    if (!onDemand || fail) {
      return end.stop(job, lease, pods, onDemand, JobPhase.Failed, "HostLost", what, now);
    }
    return reschedule(job, lease, pods, what, now);
  }

  /** Leaves the lease on the lost host, keeping what it billed, and asks for a new one. */
  private Duration reschedule(
      ComputeJob job, GpuLease lease, List<Pod> pods, String what, Instant now) {
    ComputeJobStatus s = job.getStatus();
    replicas.delete(
        pods.stream().filter(p -> !"Succeeded".equals(JobReplicas.phaseOf(p))).toList());
    end.finish(job, lease, true);
    JobBilling.carryOver(s, lease, now);
    s.leaseGeneration = (s.leaseGeneration == null ? 1 : s.leaseGeneration) + 1;
    memory.leaseGenerationStarted(job, s.leaseGeneration);
    s.attempts = s.attempts + 1;
    memory.attemptStarted(job, s.attempts);
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
}
