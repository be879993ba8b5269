package io.gpumarket.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time of this host's processes, from {@code /proc}: where a wave's cores went besides the
 * operator, when the API server, etcd and the controllers run on the same machine (as {@code
 * e2e/bin/kube.sh} starts them). The operator's share of the machine says how far a cheaper
 * operator could move the end-to-end rate; the rest is work its ceiling does not count, such as the
 * tenant's job creates, the watches and the controller manager.
 *
 * <p>Ticks are Linux's {@code USER_HZ}, 100 a second on every architecture Java runs on. A process
 * that ended between two snapshots is not counted; one that began is counted from its start (a pid
 * is told from the same pid used again by its start time). The kernel's workers are summed under
 * {@code kworker}. Elsewhere than Linux the snapshots are empty and so is the breakdown.
 */
final class HostCpu {
  private static final double MS_PER_TICK = 10.0;

  /**
   * CPU ticks by process id, each process's name and start time (in ticks since boot: a pid used
   * again by a new process starts later), and the machine's busy ticks.
   */
  record Snapshot(
      Map<Long, Long> ticks, Map<Long, String> names, Map<Long, Long> starts, long machineBusy) {}

  private HostCpu() {}

  /** The CPU of every process of this machine now. */
  static Snapshot take() {
    return take(Path.of("/proc"));
  }

  /**
   * The CPU of each thread of one process now, by thread id: a process's {@code task} directory has
   * {@code /proc}'s layout, one entry per thread (its name the JVM's thread name, cut to 15
   * characters by the kernel). The machine's busy ticks are not taken (0).
   */
  static Snapshot threads(long pid) {
    return take(Path.of("/proc", Long.toString(pid), "task"));
  }

  /** The CPU of every process now, from {@code proc}, a copy of {@code /proc}'s layout. */
  static Snapshot take(Path proc) {
    Map<Long, Long> ticks = new HashMap<>();
    Map<Long, String> names = new HashMap<>();
    Map<Long, Long> starts = new HashMap<>();
    try (Stream<Path> entries = Files.list(proc)) {
      entries.forEach(
          p -> {
            String pid = p.getFileName().toString();
            if (!pid.chars().allMatch(Character::isDigit)) {
              return;
            }
            try {
              String stat = Files.readString(p.resolve("stat"));
              // The command name is in parentheses and may hold spaces and parentheses itself.
              int open = stat.indexOf('(');
              int close = stat.lastIndexOf(')');
              String[] rest = stat.substring(close + 2).split(" ");
              // After the name, from field 3 on: utime and stime are fields 14 and 15, the start
              // time field 22 (proc(5)).
              long cpu = Long.parseLong(rest[11]) + Long.parseLong(rest[12]);
              long id = Long.parseLong(pid);
              ticks.put(id, cpu);
              names.put(id, name(stat.substring(open + 1, close)));
              starts.put(id, Long.parseLong(rest[19]));
            } catch (IOException | RuntimeException e) {
              // It ended while being read, or is not ours to read.
            }
          });
    } catch (IOException e) {
      return new Snapshot(Map.of(), Map.of(), Map.of(), 0);
    }
    return new Snapshot(ticks, names, starts, machineBusy(proc.resolve("stat")));
  }

  /**
   * The kernel's workers under one name: each names itself after the work it is doing at the moment
   * ({@code kworker/u8:0-flush-254:0}), and the name changes from one snapshot to the next.
   */
  private static String name(String command) {
    return command.startsWith("kworker/") ? "kworker" : command;
  }

  /**
   * Milliseconds of CPU per job between two snapshots of a JVM's threads, by what the threads do:
   * the HTTP client's event loops (the API's I/O and TLS, and the decoding of watch events and of
   * the answers to writes), the reconcile threads, the garbage collector's threads, the JIT's
   * compilers, and the rest. A sampling profiler sees none of the collector's threads and only the
   * Java frames of the others, so it cannot tell these shares.
   */
  static Map<String, Double> threadMsPerJob(Snapshot before, Snapshot after, int jobs) {
    Map<String, Long> byKind = ticksBy(before, after, tid -> threadKind(after.names().get(tid)));
    Map<String, Double> out = new LinkedHashMap<>();
    for (String kind : List.of("http client", "reconcile", "gc", "jit", "other")) {
      out.put(kind, byKind.getOrDefault(kind, 0L) * MS_PER_TICK / Math.max(1, jobs));
    }
    return out;
  }

  /**
   * The ticks spent between two snapshots, summed by the group each id is put in: an id that ended
   * in between is not counted, one whose start time differs (a new process or thread under an id
   * used again) from its start.
   */
  private static Map<String, Long> ticksBy(
      Snapshot before, Snapshot after, java.util.function.LongFunction<String> group) {
    Map<String, Long> sums = new TreeMap<>();
    after
        .ticks()
        .forEach(
            (id, t) -> {
              boolean same = Objects.equals(before.starts().get(id), after.starts().get(id));
              sums.merge(group.apply(id), same ? t - before.ticks().get(id) : t, Long::sum);
            });
    return sums;
  }

  /** What a JVM thread does, from its name as the kernel keeps it. */
  static String threadKind(String name) {
    if (name.startsWith("vert.x-eventloo")) {
      return "http client";
    }
    if (name.startsWith("ReconcilerExecu")) {
      return "reconcile";
    }
    // G1's and the parallel collector's workers, G1's concurrent and refinement threads, string
    // deduplication, and the VM thread that runs the pauses' serial parts.
    if (name.startsWith("GC Thread")
        || name.startsWith("G1 ")
        || name.startsWith("StringDedup")
        || name.equals("VM Thread")) {
      return "gc";
    }
    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
      return "jit";
    }
    return "other";
  }

  /** Busy ticks of all CPUs since boot; 0 where unreadable. */
  private static long machineBusy(Path stat) {
    long[] ticks = machineTicks(stat);
    return ticks.length == 0 ? 0 : ticks[0];
  }

  /**
   * Busy and total ticks of all CPUs since boot, from a {@code /proc/stat} (busy: all but idle and
   * iowait); empty where unreadable.
   */
  static long[] machineTicks(Path stat) {
    try {
      String[] f = Files.readAllLines(stat).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length && i <= 8; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return new long[0];
    }
  }

  /** This JVM, the benchmark's, under the label its CPU is reported with. */
  static final Map.Entry<Long, String> THIS_PROCESS =
      Map.entry(ProcessHandle.current().pid(), "benchmark");

  /**
   * Milliseconds of CPU per job between two snapshots, by process: the ones in {@code labels} (by
   * pid) under their label, the others by command name, those of one name summed; largest first,
   * those under 0.1 ms a job left out but counted in {@code machine} (all the CPUs' busy time) and
   * {@code others}.
   */
  static Map<String, Double> msPerJob(
      Snapshot before, Snapshot after, Map<Long, String> labels, int jobs) {
    Map<String, Long> byName =
        ticksBy(before, after, pid -> labels.getOrDefault(pid, after.names().get(pid)));
    double per = MS_PER_TICK / Math.max(1, jobs);
    Map<String, Double> out = new LinkedHashMap<>();
    double machine = (after.machineBusy() - before.machineBusy()) * per;
    out.put("machine", machine);
    double named = 0;
    for (var e :
        byName.entrySet().stream()
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
            .toList()) {
      double ms = e.getValue() * per;
      if (ms >= 0.1) {
        out.put(e.getKey(), ms);
        named += ms;
      }
    }
    out.put("others", Math.max(0, machine - named));
    return out;
  }
}
