package io.gpumarket.operator;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A rate shared by many objects' informational status writes, so that together they stay within
 * {@code writesPerSecond} however many objects there are: each object that wants to write takes the
 * next free slot and keeps it until it writes. A second's worth of writes may go at once after a
 * quiet spell.
 */
final class WriteBudget<K> {
  private final long spacingNanos;
  private final long burstNanos;
  private final Map<K, Long> slots = new HashMap<>();
  private long next = Long.MIN_VALUE;
  private Long sweptAt;
  private static final long STALE_NANOS = 60_000_000_000L;

  WriteBudget(double writesPerSecond, String property) {
    if (!(writesPerSecond > 0)) {
      throw new IllegalArgumentException(property + " must be positive, got " + writesPerSecond);
    }
    spacingNanos = Math.max(1, (long) (1e9 / writesPerSecond));
    burstNanos = Math.max(spacingNanos, 1_000_000_000L);
  }

  /**
   * How long {@code key} must wait before its write; zero means write now, and the slot is used.
   */
  synchronized Duration waitFor(K key, long nowNanos) {
    Long slot = slots.get(key);
    if (slot == null) {
      // A slot long past was kept by an object that never came back for it (deleted meanwhile).
      // Swept now and then, not at every call: a sweep walks every slot kept.
      if (sweptAt == null || nowNanos - sweptAt > STALE_NANOS) {
        sweptAt = nowNanos;
        slots.values().removeIf(s -> nowNanos - s > STALE_NANOS);
      }
      slot = Math.max(next, nowNanos - burstNanos);
      next = slot + spacingNanos;
      if (slot - nowNanos > 0) {
        slots.put(key, slot);
      }
    }
    if (slot - nowNanos <= 0) {
      slots.remove(key);
      return Duration.ZERO;
    }
    return Duration.ofNanos(slot - nowNanos);
  }

  /** Gives up a slot kept by an object that wrote for another reason, or is gone. */
  synchronized void forget(K key) {
    slots.remove(key);
  }

  synchronized int waiting() {
    return slots.size();
  }
}
