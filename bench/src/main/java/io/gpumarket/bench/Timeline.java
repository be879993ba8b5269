package io.gpumarket.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * What a wave did every few seconds: its jobs created and bound so far, the cores the operator and
 * the whole machine kept busy, and the operator's writes a second. An average rate says how fast a
 * run went; this says which phase held it back and whether the cores were the limit.
 */
final class Timeline implements AutoCloseable {
  private final OperatorJvm operator;
  private final IntSupplier created;
  private final IntSupplier bound;
  private final long start = System.nanoTime();
  private final List<Map<String, Object>> rows = new ArrayList<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "bench-timeline");
            t.setDaemon(true);
            return t;
          });
  private long lastNanos = start;
  private long lastCpu = -1;
  private long lastWrites;
  private long[] lastMachine = machineTicks();

  Timeline(OperatorJvm operator, IntSupplier created, IntSupplier bound, long periodMs) {
    this.operator = operator;
    this.created = created;
    this.bound = bound;
    sample();
    timer.scheduleAtFixedRate(this::sample, periodMs, periodMs, TimeUnit.MILLISECONDS);
  }

  private synchronized void sample() {
    try {
      OperatorJvm.Counts c = operator.counts();
      long now = System.nanoTime();
      long[] machine = machineTicks();
      if (lastCpu >= 0) {
        double seconds = (now - lastNanos) / 1e9;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("seconds", Math.round((now - start) / 1e8) / 10.0);
        row.put("created", created.getAsInt());
        row.put("bound", bound.getAsInt());
        row.put("operatorCores", round((c.cpuNanos() - lastCpu) / 1e9 / seconds));
        row.put("operatorWritesPerSecond", round((c.writes() - lastWrites) / seconds));
        row.put("machineBusyCores", round(busyCores(lastMachine, machine)));
        rows.add(row);
      }
      lastNanos = now;
      lastCpu = c.cpuNanos();
      lastWrites = c.writes();
      lastMachine = machine;
    } catch (Exception e) {
      // The operator has gone: the wave itself fails and says why.
    }
  }

  /** The rows so far, after a last one taken now. */
  synchronized List<Map<String, Object>> rows() {
    sample();
    return List.copyOf(rows);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  /** Busy and total ticks of all CPUs since boot; empty elsewhere than Linux. */
  private static long[] machineTicks() {
    return HostCpu.machineTicks(Path.of("/proc/stat"));
  }

  private static double busyCores(long[] before, long[] after) {
    if (before.length < 2 || after.length < 2 || after[1] == before[1]) {
      return Double.NaN;
    }
    return (after[0] - before[0])
        / (double) (after[1] - before[1])
        * Runtime.getRuntime().availableProcessors();
  }
}
