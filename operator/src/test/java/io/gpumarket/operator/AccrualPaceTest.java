package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AccrualPaceTest {

  @Test
  void aFewLeasesRefreshTheirCostEveryIntervalAManyShareTheWriteBudget() {
    Duration minute = Duration.ofMinutes(1);
    assertThat(AccrualPace.period(minute, 10, 0)).isEqualTo(minute);
    assertThat(AccrualPace.period(minute, 10, 600)).isEqualTo(minute);
    // 4,300 leases at 10 writes a second: each every 430 s, 10 writes a second in all.
    assertThat(AccrualPace.period(minute, 10, 4300)).isEqualTo(Duration.ofSeconds(430));
    assertThat(AccrualPace.period(minute, 0.5, 45)).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void anActiveLeasesCostIsDueAPeriodAfterItWasLastAccruedNotAtEveryPass() {
    java.time.Instant start = java.time.Instant.parse("2026-12-06T10:00:00Z");
    var lease = new io.gpumarket.api.v1alpha1.GpuLease();
    lease.setSpec(new io.gpumarket.api.v1alpha1.GpuLeaseSpec());
    lease.getSpec().gpus = 4;
    lease.setStatus(new io.gpumarket.api.v1alpha1.GpuLeaseStatus());
    lease.getStatus().startTime = Times.format(start);
    lease.getStatus().pricePerGpuHour = "2.00";
    Duration minute = Duration.ofMinutes(1);

    // Before its first refresh, a minute after it started (a second early for the timer).
    assertThat(GpuLeaseReconciler.nextAccrual(lease, minute, start.plusSeconds(10)))
        .isEqualTo(start.plusSeconds(59));
    GpuLeaseReconciler.accrue(lease.getStatus(), 4, start.plusSeconds(61));
    assertThat(lease.getStatus().gpuSeconds).isEqualTo(244);
    // A pass 20 s later finds nothing due: nothing to write.
    assertThat(GpuLeaseReconciler.nextAccrual(lease, minute, start.plusSeconds(81)))
        .isEqualTo(start.plusSeconds(120));
  }

  @Test
  void theActiveLeasesAreCountedAtMostOnceASecond() {
    AtomicInteger counts = new AtomicInteger();
    AccrualPace pace =
        new AccrualPace(
            Duration.ofSeconds(1),
            1,
            () -> {
              counts.incrementAndGet();
              return 5;
            });
    assertThat(pace.period()).isEqualTo(Duration.ofSeconds(5));
    assertThat(pace.period()).isEqualTo(Duration.ofSeconds(5));
    assertThat(counts).hasValue(1);
  }

  @Test
  void settingsThatCouldNeverWriteAreRefusedByName() {
    assertThatThrownBy(() -> new AccrualPace(Duration.ZERO, 10, () -> 0))
        .hasMessageContaining("gpumarket.lease.accrual-interval");
    assertThatThrownBy(() -> new AccrualPace(Duration.ofMinutes(1), 0, () -> 0))
        .hasMessageContaining("accrual-writes-per-second");
  }
}
