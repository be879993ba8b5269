package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.UptimeStatus;
import java.time.Duration;
import java.time.Instant;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class UptimeHistoryTest {
  static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

  @Test
  void aSimulatedWeekGivesTheRatiosOfEachWindowAndSurvivesARestart() {
    UptimeStatus status = new UptimeStatus();
    UptimeHistory h = UptimeHistory.from(status);
    assertThat(h.ratio(Duration.ofHours(1))).as("nothing measured yet").isNull();
    h.record(T0, true);
    // A week, minute by minute: down for the first 12 hours of each day, then down for the last 15
    // minutes.
    Instant t = T0;
    for (int minute = 1; minute <= 7 * 24 * 60; minute++) {
      t = T0.plusSeconds(60L * minute);
      boolean up = (minute % (24 * 60)) >= 12 * 60 && minute <= 7 * 24 * 60 - 15;
      if (minute == 3 * 24 * 60) {
        // The operator restarts mid-week: the history goes through the status and back.
        h.writeTo(status, 10);
        status = roundTrip(status);
        h = UptimeHistory.from(status);
      }
      h.record(t, up);
    }
    h.writeTo(status, 10);
    assertThat(status.ratio1h).isEqualTo(0.75);
    // The last 24 h: up from minute 720 of the day on, less the 14 up-minutes lost at the end.
    assertThat(status.ratio24h)
        .isEqualTo(Math.round(10_000.0 * (12 * 60 - 14) / (24 * 60)) / 10_000.0);
    assertThat(status.ratio7d).isCloseTo(0.4985, org.assertj.core.data.Offset.offset(0.001));
    // 734 minutes down in the last day, six heartbeats a minute at a 10 s interval.
    assertThat(status.missedHeartbeats24h).isEqualTo(734 * 6);
    assertThat(status.trackedMinutes).isEqualTo(7 * 24 * 60);
    assertThat(status.history).hasSize(1680);
  }

  @Test
  void minutesTheOperatorMissedTakeTheStateItFindsAndNothingIsWrittenTwiceAMinute() {
    UptimeHistory h = UptimeHistory.from(null);
    assertThat(h.record(T0, true)).isTrue();
    assertThat(h.record(T0.plusSeconds(20), false)).as("same minute: no write").isFalse();
    assertThat(h.record(T0.plusSeconds(30 * 60), false)).isTrue();
    assertThat(h.ratio(Duration.ofHours(1)))
        .isCloseTo(1.0 / 31, org.assertj.core.data.Offset.offset(0.001));
  }

  @Test
  void aGapShiftsTheWholeHistoryByItsMinutes() {
    UptimeHistory h = UptimeHistory.from(null);
    h.record(T0, true);
    for (int minute = 1; minute <= 90; minute++) {
      h.record(T0.plusSeconds(60L * minute), minute > 30);
    }
    // 20 minutes unseen, found down: the last hour is 40 up-minutes then the 20 down.
    h.record(T0.plusSeconds(60L * 110), false);
    assertThat(h.ratio(Duration.ofHours(1))).isCloseTo(40.0 / 60, Offset.offset(0.0001));
    assertThat(h.ratio(Duration.ofMinutes(110))).isCloseTo(60.0 / 110, Offset.offset(0.0001));
    assertThat(h.downMinutes(Duration.ofHours(24))).isEqualTo(30 + 20);
    // A gap longer than the week replaces all of it.
    h.record(T0.plusSeconds(60L * (110 + 8 * 24 * 60)), true);
    assertThat(h.ratio(Duration.ofDays(7))).isEqualTo(1.0);
    assertThat(h.downMinutes(Duration.ofDays(7))).isZero();
  }

  static UptimeStatus roundTrip(UptimeStatus s) {
    var json = new io.fabric8.kubernetes.client.utils.KubernetesSerialization();
    return json.unmarshal(json.asJson(s), UptimeStatus.class);
  }
}
