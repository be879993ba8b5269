package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.UptimeStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.BitSet;
import java.util.Objects;

/**
 * A GpuNode's uptime, one bit a minute over 7 days (1,260 bytes), kept in its status so that it
 * survives operator restarts, and changed at most once a minute. {@link #record} gives every minute
 * since the last one recorded the state it is handed: minutes the operator did not see (it was
 * down) take the state it finds when it comes back, and a caller that knows a state held until a
 * moment records it up to that moment first. Pure: no client, no clock.
 */
public final class UptimeHistory {
  static final int MINUTES = 7 * 24 * 60;
  private final BitSet bits;
  private long endMinute;
  private int tracked;

  private UptimeHistory(BitSet bits, long endMinute, int tracked) {
    this.bits = bits;
    this.endMinute = endMinute;
    this.tracked = tracked;
  }

  public static UptimeHistory from(UptimeStatus status) {
    if (status == null || status.history == null || status.historyEndMinute == null) {
      return new UptimeHistory(new BitSet(MINUTES), -1, 0);
    }
    BitSet bits = BitSet.valueOf(Base64.getDecoder().decode(status.history));
    return new UptimeHistory(
        bits, status.historyEndMinute, status.trackedMinutes == null ? 0 : status.trackedMinutes);
  }

  /**
   * Records every whole minute up to {@code now} as {@code up}; returns whether anything changed.
   */
  public boolean record(Instant now, boolean up) {
    long minute = now.getEpochSecond() / 60;
    if (endMinute < 0) {
      endMinute = minute - 1;
    }
    long steps = Math.min(minute - endMinute, MINUTES);
    if (steps <= 0) {
      return false;
    }
    // Bit 0 is the oldest minute, bit MINUTES-1 the newest: drop the oldest `steps` minutes a word
    // at a time (a bit at a time, a week's gap after an outage cost 10,080² steps per node).
    BitSet kept = bits.get((int) steps, MINUTES);
    bits.clear();
    bits.or(kept);
    bits.set(MINUTES - (int) steps, MINUTES, up);
    endMinute = minute;
    tracked = (int) Math.min(MINUTES, tracked + steps);
    return true;
  }

  /** Share of the last {@code window} that was up, over the minutes recorded; null before any. */
  public Double ratio(Duration window) {
    int span = (int) Math.min(Math.min(window.toMinutes(), MINUTES), tracked);
    if (span == 0) {
      return null;
    }
    int up = bits.get(MINUTES - span, MINUTES).cardinality();
    return Math.round(10_000.0 * up / span) / 10_000.0;
  }

  /** Minutes of the last {@code window} that were recorded as down. */
  public int downMinutes(Duration window) {
    int span = (int) Math.min(Math.min(window.toMinutes(), MINUTES), tracked);
    return span - bits.get(MINUTES - span, MINUTES).cardinality();
  }

  /**
   * Writes the history, the 1 h, 24 h and 7 d ratios and the heartbeats missed in the last 24 h (an
   * agent renewing every {@code heartbeatIntervalSeconds}) into the status.
   */
  public void writeTo(UptimeStatus status, int heartbeatIntervalSeconds) {
    byte[] bytes = bits.toByteArray();
    byte[] full = new byte[MINUTES / 8];
    System.arraycopy(bytes, 0, full, 0, Math.min(bytes.length, full.length));
    status.history = Base64.getEncoder().encodeToString(full);
    status.historyEndMinute = endMinute;
    status.trackedMinutes = tracked;
    writeFiguresTo(status, heartbeatIntervalSeconds);
  }

  /**
   * Whether the ratios or missed heartbeats this history gives differ from those in {@code status}:
   * what a reader of the status would see move.
   */
  public boolean figuresDiffer(UptimeStatus status, int heartbeatIntervalSeconds) {
    UptimeStatus figures = new UptimeStatus();
    writeFiguresTo(figures, heartbeatIntervalSeconds);
    return !Objects.equals(figures.ratio1h, status.ratio1h)
        || !Objects.equals(figures.ratio24h, status.ratio24h)
        || !Objects.equals(figures.ratio7d, status.ratio7d)
        || !Objects.equals(figures.missedHeartbeats24h, status.missedHeartbeats24h);
  }

  private void writeFiguresTo(UptimeStatus status, int heartbeatIntervalSeconds) {
    status.ratio1h = ratio(Duration.ofHours(1));
    status.ratio24h = ratio(Duration.ofHours(24));
    status.ratio7d = ratio(Duration.ofDays(7));
    long perMinute = Math.max(1, 60 / Math.max(1, heartbeatIntervalSeconds));
    status.missedHeartbeats24h = (int) (downMinutes(Duration.ofHours(24)) * perMinute);
  }
}
