package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.JobPhase;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this process did to each job that its informer cache may not show yet. A cached status or
 * pod list can lag our own writes by a watch event, and a step taken on it must not undo them: fall
 * back to an attempt already replaced, or to a lease already given up.
 */
final class JobMemory {
  /** Jobs whose wait this process has measured, so a stale cache read does not measure it twice. */
  private final Set<String> waitMeasured = ConcurrentHashMap.newKeySet();

  /** The latest attempt this process started per job. */
  private final Map<String, Integer> latestAttempt = new ConcurrentHashMap<>();

  /** The latest on-demand lease generation per job. */
  private final Map<String, Integer> latestGeneration = new ConcurrentHashMap<>();

  /** Since when a quota has refused each job's pods, and whether that was told, by job uid. */
  private final Map<String, QuotaRefusal> quotaRefusals = new ConcurrentHashMap<>();

  /** A quota refusing a job's pods since {@code since}; {@code told} once an event said so. */
  record QuotaRefusal(java.time.Instant since, boolean told) {}

  /** The refusal of this job's pods by a quota, begun now if it was not going on. */
  QuotaRefusal quotaRefused(ComputeJob job, java.time.Instant now) {
    return quotaRefusals.computeIfAbsent(
        job.getMetadata().getUid(), u -> new QuotaRefusal(now, false));
  }

  void quotaRefusalTold(ComputeJob job) {
    quotaRefusals.computeIfPresent(
        job.getMetadata().getUid(), (u, r) -> new QuotaRefusal(r.since(), true));
  }

  /** The job's pods were admitted: a later refusal is a new one. */
  void quotaAdmitted(ComputeJob job) {
    quotaRefusals.remove(job.getMetadata().getUid());
  }

  /** Applies a reschedule this process made that the cached status does not show yet. */
  void catchUp(ComputeJob job) {
    Integer known = latestGeneration.get(job.getMetadata().getUid());
    ComputeJobStatus s = job.getStatus();
    if (known != null && s != null && (s.leaseGeneration == null || s.leaseGeneration < known)) {
      s.leaseGeneration = known;
      s.nodes = new ArrayList<>();
      s.phase = JobPhase.Pending;
    }
  }

  int latestAttempt(ComputeJob job) {
    return latestAttempt.getOrDefault(job.getMetadata().getUid(), 0);
  }

  void attemptStarted(ComputeJob job, int attempt) {
    latestAttempt.put(job.getMetadata().getUid(), attempt);
  }

  void leaseGenerationStarted(ComputeJob job, int generation) {
    latestGeneration.put(job.getMetadata().getUid(), generation);
  }

  /** True the first time it is asked for a job. */
  boolean firstWaitMeasure(ComputeJob job) {
    return waitMeasured.add(job.getMetadata().getUid());
  }

  /** A job that ended or went away: nothing of it need be remembered. */
  void forget(ComputeJob job) {
    String uid = job.getMetadata().getUid();
    waitMeasured.remove(uid);
    latestAttempt.remove(uid);
    latestGeneration.remove(uid);
    quotaRefusals.remove(uid);
  }
}
