package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.GpuLease;
import java.time.Duration;
import java.time.Instant;

/**
 * How long an ended on-demand lease whose job is gone stays as the record of what the job was
 * billed. Only leases the operator made for a job and let go of when the job was deleted are
 * removed: a lease a person or a GitOps tool created is theirs to delete, and one still owned by a
 * job lives as long as the job.
 *
 * @param keep how long after the lease ended it is kept
 */
record LeaseRetention(Duration keep) {
  /** Time left before the lease is deleted (zero or less: now), or null if it is kept for good. */
  Duration remaining(GpuLease lease, Instant now) {
    var status = lease.getStatus();
    var meta = lease.getMetadata();
    if (status == null || status.phase == null || !status.phase.isFinal()) {
      return null;
    }
    boolean madeForAJob = JobLeases.isJobsOwn(lease);
    boolean owned = meta.getOwnerReferences() != null && !meta.getOwnerReferences().isEmpty();
    if (!madeForAJob || owned) {
      return null;
    }
    return Duration.between(now, ended(lease).plus(keep));
  }

  /** When the lease ended: its end time, or for one released before it was bound, when it was. */
  private static Instant ended(GpuLease lease) {
    var status = lease.getStatus();
    if (status.endTime != null) {
      return Times.parse(status.endTime);
    }
    return Conditions.find(status.conditions, "Bound")
        .map(c -> c.getLastTransitionTime())
        .map(Times::parse)
        .orElse(Times.parse(lease.getMetadata().getCreationTimestamp()));
  }
}
