package io.gpumarket.operator;

/**
 * How long a market object whose last reconcile asked for no later look may go without a reconcile
 * when no event comes: JOSDK's failsafe against a missed event, set on every controller.
 *
 * <p>An hour, not JOSDK's 10 hours, for two reasons. An object whose event was lost (a watch that
 * failed between relists, a bug) is looked at again within the hour. And JOSDK keeps a cancelled
 * timer task per reconcile that follows one asking no reschedule, until the failsafe time it was
 * set for: a cancelled {@code java.util.TimerTask} stays in its timer's queue until it falls due.
 * Measured: about one such task (some 80 bytes) per job in the sandbox, where jobs run and end,
 * four in the benchmark, where they stay pending or scheduled; at size L's pace (36 jobs a second)
 * held for 10 hours that is 100 to 400 MiB, for one hour a tenth. The price is a reconcile an hour
 * of each object at rest (an ended job, its lease, an offer), which finds nothing to write: at
 * 50,000 objects, 14 a second. Operators may set another with {@code
 * quarkus.operator-sdk.controllers."<name>".max-reconciliation-interval}.
 */
final class Failsafe {
  static final long HOURS = 1;

  private Failsafe() {}
}
