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
