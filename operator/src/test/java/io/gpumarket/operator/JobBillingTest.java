package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.GpuLeaseStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobBillingTest {
  private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");

  private static GpuLease reserved(long accruedSeconds) {
    GpuLease lease = new GpuLease();
    lease.setSpec(new GpuLeaseSpec());
    lease.getSpec().gpus = 8;
    lease.setStatus(new GpuLeaseStatus());
    lease.getStatus().startTime = Times.format(T0);
    lease.getStatus().pricePerGpuHour = "2.00";
    GpuLeaseReconciler.accrue(lease.getStatus(), 8, T0.plusSeconds(accruedSeconds));
    return lease;
  }

  /** A job of one replica of 4 GPUs on the reserved lease, started {@code startSecond} after T0. */
  private static ComputeJob onReserved(String name, long startSecond) {
    ComputeJob job = Fleet.job("team", name, List.of("l40s"), 1, 4, null);
    job.getSpec().leaseRef = "reserved";
    job.setStatus(new ComputeJobStatus());
    job.getStatus().startTime = Times.format(T0.plusSeconds(startSecond));
    job.getStatus().pricePerGpuHour = "2.00";
    return job;
  }

  @Test
  void aJobOnAReservedLeaseIsBilledUpToTheLeasesLastAccrualWhileItRunsAndExactlyAtItsEnd() {
    ComputeJob job = onReserved("share", 300);

    GpuLease lease = reserved(600);
    JobBilling.refresh(job, lease, false, T0.plusSeconds(650));
    assertThat(job.getStatus().gpuSeconds).isEqualTo(4 * 300);
    assertThat(job.getStatus().cost).isEqualTo("0.6667");
    // Later passes before the lease accrues again change nothing, so write nothing.
    JobBilling.refresh(job, lease, false, T0.plusSeconds(690));
    assertThat(job.getStatus().gpuSeconds).isEqualTo(4 * 300);

    JobBilling.refresh(job, reserved(720), false, T0.plusSeconds(725));
    assertThat(job.getStatus().gpuSeconds).isEqualTo(4 * 420);

    job.getStatus().completionTime = Times.format(T0.plusSeconds(700));
    JobBilling.refresh(job, reserved(720), false, T0.plusSeconds(730));
    assertThat(job.getStatus().gpuSeconds).isEqualTo(4 * 400);
    assertThat(job.getStatus().cost).isEqualTo("0.8889");
  }

  @Test
  void aJobThatStartedAfterTheLeasesLastAccrualHasNothingBilledYet() {
    ComputeJob job = onReserved("late", 900);
    JobBilling.refresh(job, reserved(600), false, T0.plusSeconds(910));
    assertThat(job.getStatus().gpuSeconds).isZero();
  }
}
