package io.gpumarket.operator;

import java.time.Duration;
import java.util.function.IntSupplier;

/**
 * How often an active lease's accrued cost is written: every {@code interval}, unless so many
 * leases are active that their refreshes together would pass {@code writesPerSecond}; then each
 * lease's once per (active leases ÷ writesPerSecond). A lease's cost is exact whenever it is
 * written (it is recomputed from the start time), and at its end; only how fresh the shown figure
 * is changes. At size L of the benchmark, 4,300 active leases refreshed every minute were 72 lease
 * status writes a second, and as many job status writes, since a job shows its lease's cost.
 */
final class AccrualPace {
  private final Duration interval;
  private final double writesPerSecond;
  private final IntSupplier activeLeases;
  private volatile long countedAtNanos;
  private volatile int counted = -1;

  AccrualPace(Duration interval, double writesPerSecond, IntSupplier activeLeases) {
    if (interval.isNegative() || interval.isZero() || !(writesPerSecond > 0)) {
      throw new IllegalArgumentException(
          "gpumarket.lease.accrual-interval and accrual-writes-per-second must be positive, got "
              + interval
              + " and "
              + writesPerSecond);
    }
    this.interval = interval;
    this.writesPerSecond = writesPerSecond;
    this.activeLeases = activeLeases;
  }

  /** The period for the leases active now; they are counted at most once a second. */
  Duration period() {
    long now = System.nanoTime();
    if (counted < 0 || now - countedAtNanos > 1_000_000_000L) {
      counted = activeLeases.getAsInt();
      countedAtNanos = now;
    }
    return period(interval, writesPerSecond, counted);
  }

  static Duration period(Duration interval, double writesPerSecond, int activeLeases) {
    Duration spread = Duration.ofMillis((long) Math.ceil(activeLeases * 1000 / writesPerSecond));
    return spread.compareTo(interval) > 0 ? spread : interval;
  }
}
