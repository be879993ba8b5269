package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.JobPhase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The ways a job ends (succeeded, failed, cancelled, deleted) and what each gives back: its pods
 * stop and its on-demand GPUs return to the market.
 */
final class JobEnd {
  private final KubernetesClient client;
  private final JobLeases leases;
  private final JobMemory memory;
  private final ReservedLeaseClaims claims;
  private final EventRecorder events;

  JobEnd(
      KubernetesClient client,
      JobLeases leases,
      JobMemory memory,
      ReservedLeaseClaims claims,
      EventRecorder events) {
    this.client = client;
    this.leases = leases;
    this.memory = memory;
    this.claims = claims;
    this.events = events;
  }

  Duration succeed(ComputeJob job, GpuLease lease, boolean onDemand, Instant now) {
    ComputeJobStatus s = job.getStatus();
    s.phase = JobPhase.Succeeded;
    s.completionTime = Times.format(now);
    s.message = "every replica succeeded";
    Conditions.set(
        s.conditions, "Running", false, "Completed", s.message, s.observedGeneration, now);
    Conditions.set(
        s.conditions, "Complete", true, "Succeeded", s.message, s.observedGeneration, now);
    finish(job, lease, onDemand);
    JobBilling.refresh(job, lease, onDemand, now);
    events.normal(
        job, EventReason.JobSucceeded, s.message + " after " + s.attempts + " attempt(s)");
    return null;
  }

  /** Ends the job in {@code phase} (Failed or Cancelled) for the reason given. */
  Duration stop(
      ComputeJob job,
      GpuLease lease,
      List<Pod> pods,
      boolean onDemand,
      JobPhase phase,
      String reason,
      String message,
      Instant now) {
    ComputeJobStatus s = job.getStatus();
    JobPods.delete(client, pods.stream().filter(p -> !finished(JobReplicas.phaseOf(p))).toList());
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
    JobBilling.refresh(job, lease, onDemand, now);
    return null;
  }

  private static boolean finished(String podPhase) {
    return "Succeeded".equals(podPhase) || "Failed".equals(podPhase);
  }

  /** Returns an ended job's on-demand GPUs to the market. */
  void finish(ComputeJob job, GpuLease lease, boolean onDemand) {
    claims.forget(job);
    memory.forget(job);
    if (onDemand) {
      leases.release(lease);
    }
  }

  /**
   * On deletion: stops the pods and releases the on-demand lease, which is kept (no longer owned by
   * the job) as the record of what the job was billed. The pods are those the cache shows (the
   * operator's own creations among them), deleted by name: a delete by label makes the API server
   * read every pod of the namespace from etcd, hundreds for each job deleted when a namespace runs
   * many. One the cache does not show yet is owned by the job, and the garbage collector deletes it
   * with the job (unless the job's deletion orphans its dependents).
   */
  void cleanup(ComputeJob job, List<Pod> pods) {
    claims.forget(job);
    memory.forget(job);
    JobPods.delete(client, pods);
    leases.detach(job);
  }
}
