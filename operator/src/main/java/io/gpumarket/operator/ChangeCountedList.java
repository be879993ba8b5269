package io.gpumarket.operator;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A list taken from a cache and reused until the cache's event handlers say that something the
 * list's readers care about changed. A change counted while a list is taken makes the next caller
 * take it again; a list taken just before a change reaches the counter is as stale as a cache read
 * just before the change, which every reader of a cache already allows for.
 */
final class ChangeCountedList<T> {
  private final AtomicLong changes = new AtomicLong();
  private final AtomicReference<Taken<T>> taken = new AtomicReference<>();

  private record Taken<T>(List<T> items, long atChange) {}

  /** Counts a change when {@code matters}; returns {@code matters}, for use as an event filter. */
  boolean changed(boolean matters) {
    if (matters) {
      changes.incrementAndGet();
    }
    return matters;
  }

  /** The list last taken, or a new one from {@code source} if a change was counted since. */
  List<T> list(Supplier<List<T>> source) {
    long now = changes.get();
    Taken<T> last = taken.get();
    if (last != null && last.atChange() == now) {
      return last.items();
    }
    List<T> items = source.get();
    taken.set(new Taken<>(items, now));
    return items;
  }
}
