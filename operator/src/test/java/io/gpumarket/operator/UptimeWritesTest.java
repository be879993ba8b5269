package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * When the GpuNode reconciler writes a host's uptime: at once when readiness changes, when a figure
 * a reader sees moves, and otherwise about hourly, so that a healthy fleet does not write its
 * history every five minutes.
 */
class UptimeWritesTest {
  static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  static final int REFRESH = 50;

  /**
   * Looks at the host every five minutes (and at each given change); returns the minutes written.
   */
  static List<Integer> look(GpuNodeStatus status, int minutes, int downFrom, int downUntil) {
    List<Integer> written = new ArrayList<>();
    boolean wasReady = false;
    for (int minute = 0; minute <= minutes; minute++) {
      boolean ready = minute < downFrom || minute >= downUntil;
      if (minute % 5 != 0 && ready == wasReady) {
        continue;
      }
      Long before = status.uptime == null ? null : status.uptime.historyEndMinute;
      GpuNodeReconciler.recordUptime(
          status, ready, wasReady, T0.plus(Duration.ofMinutes(minute)), null, 10, REFRESH);
      if (!Objects.equals(before, status.uptime == null ? null : status.uptime.historyEndMinute)) {
        written.add(minute);
      }
      wasReady = ready;
    }
    return written;
  }

  @Test
  void aHostThatStaysUpIsWrittenWhenFirstSeenThenAtItsRefreshNotEveryFiveMinutes() {
    GpuNodeStatus status = new GpuNodeStatus();
    assertThat(look(status, 120, Integer.MAX_VALUE, Integer.MAX_VALUE))
        .containsExactly(0, REFRESH, 2 * REFRESH);
    assertThat(status.uptime.ratio1h).isEqualTo(1.0);
    assertThat(status.uptime.trackedMinutes).isEqualTo(2 * REFRESH + 1);
  }

  @Test
  void anOutageIsWrittenAsItStartsAndEndsAndTheRatiosAsTheyMove() {
    GpuNodeStatus status = new GpuNodeStatus();
    List<Integer> written = look(status, 120, 12, 14);
    assertThat(written).as("down at 12, up at 14").contains(12, 14);
    // The two down minutes weigh on the 1 h ratio until they leave it, written every five minutes.
    assertThat(written).containsSequence(12, 14, 20, 25, 30);
    assertThat(status.uptime.ratio1h).isEqualTo(1.0);
    assertThat(status.uptime.missedHeartbeats24h).isEqualTo(2 * 6);
  }

  @Test
  void minutesNotWrittenAreRebuiltTheSameAfterARestart() {
    GpuNodeStatus status = new GpuNodeStatus();
    assertThat(look(status, 41, 41, Integer.MAX_VALUE)).containsExactly(0, 41);
    // A restart at minute 45: minutes 1 to 40 were never written, yet come back up, as they were.
    UptimeHistory rebuilt = UptimeHistory.from(UptimeHistoryTest.roundTrip(status.uptime));
    rebuilt.record(T0.plus(Duration.ofMinutes(45)), false);
    UptimeHistory continuous = UptimeHistory.from(null);
    for (int minute = 0; minute <= 45; minute++) {
      continuous.record(T0.plus(Duration.ofMinutes(minute)), minute < 41);
    }
    assertThat(rebuilt.ratio(Duration.ofHours(1)))
        .isEqualTo(continuous.ratio(Duration.ofHours(1)))
        .isEqualTo(Math.round(10_000.0 * 41 / 46) / 10_000.0);
    assertThat(rebuilt.downMinutes(Duration.ofDays(1))).isEqualTo(5);
  }

  @Test
  void refreshesAreSpreadOverAQuarterHourByName() {
    var spread = new TreeSet<Integer>();
    for (int i = 0; i < 1000; i++) {
      spread.add(GpuNodeReconciler.uptimeRefreshMinutes("host-" + i));
    }
    assertThat(spread.first()).isEqualTo(45);
    assertThat(spread.last()).isEqualTo(60);
    assertThat(spread).hasSize(16);
  }
}
