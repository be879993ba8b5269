package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;

/**
 * What a job has been billed: an on-demand job what its leases accrued (the current one and those
 * it was moved off), a job on a reserved lease its share of the lease's price since it started, up
 * to the lease's last accrual while it runs: billed up to each pass's clock instead, its status was
 * written on every pass (every 30 s a running job), however many jobs ran, where the lease's own
 * refreshes are paced to the API server ({@link AccrualPace}).
 */
final class JobBilling {
  private JobBilling() {}

  static void refresh(ComputeJob job, GpuLease lease, boolean onDemand, Instant now) {
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
                : new BigDecimal(s.priorCost)
                    .add(new BigDecimal(lease.getStatus().cost))
                    .toPlainString();
      }
      return;
    }
    Instant end =
        s.completionTime == null ? accruedUntil(lease, now) : Times.parse(s.completionTime);
    long seconds = Math.max(0, Duration.between(Times.parse(s.startTime), end).getSeconds());
    s.gpuSeconds = (long) job.getSpec().replicas * job.getSpec().gpu.perReplica * seconds;
    s.cost = GpuLeaseReconciler.cost(s.gpuSeconds, s.pricePerGpuHour);
  }

  /** The instant up to which a lease's cost was last accrued, at most now. */
  static Instant accruedUntil(GpuLease lease, Instant now) {
    var st = lease.getStatus();
    Integer gpus = lease.getSpec() == null ? null : lease.getSpec().gpus;
    if (st.startTime == null || st.gpuSeconds == null || gpus == null || gpus <= 0) {
      return st.startTime == null ? now : Times.parse(st.startTime);
    }
    Instant accrued = Times.parse(st.startTime).plusSeconds(st.gpuSeconds / gpus);
    return accrued.isBefore(now) ? accrued : now;
  }

  /**
   * Moves what a lease the job leaves accrued up to now into the job's prior amounts, so that the
   * job's bill stays whole when it runs on under a new lease.
   */
  static void carryOver(ComputeJobStatus s, GpuLease lease, Instant now) {
    var billed = StatusDiff.copy(lease.getStatus());
    GpuLeaseReconciler.accrue(billed, lease.getSpec().gpus, now);
    long priorSeconds =
        (s.priorGpuSeconds == null ? 0 : s.priorGpuSeconds)
            + (billed.gpuSeconds == null ? 0 : billed.gpuSeconds);
    BigDecimal priorCost =
        (s.priorCost == null ? BigDecimal.ZERO : new BigDecimal(s.priorCost))
            .add(billed.cost == null ? BigDecimal.ZERO : new BigDecimal(billed.cost));
    s.priorGpuSeconds = priorSeconds;
    s.priorCost = priorCost.toPlainString();
    s.gpuSeconds = priorSeconds;
    s.cost = s.priorCost;
  }
}
