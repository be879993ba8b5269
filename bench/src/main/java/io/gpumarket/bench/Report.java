package io.gpumarket.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The figures as a table on the terminal. */
final class Report {
  private Report() {}

  @SuppressWarnings("unchecked")
  static void print(Map<String, Object> result, PrintStream out) {
    out.printf("%nmachine: %s%n", machine(result));
    printRows(table((Map<String, Object>) result.get("sizes")), out);
    out.println("\ntargets (2-core machine):");
    for (Map<String, Object> t : (List<Map<String, Object>>) result.get("targets")) {
      out.printf(
          "  [%s] %s (size %s): %s%n", verdict(t), t.get("target"), t.get("size"), t.get("value"));
    }
  }

  /**
   * Two runs side by side: each size's column of the first run, then of the second, then how each
   * figure moved from the first to the second; and each target's verdict in both.
   */
  @SuppressWarnings("unchecked")
  static void compare(Map<String, Object> a, Map<String, Object> b, PrintStream out) {
    out.printf("%nA: %s%nB: %s%n", machine(a), machine(b));
    Map<String, Object> sizesA = (Map<String, Object>) a.get("sizes");
    Map<String, Object> sizesB = (Map<String, Object>) b.get("sizes");
    Set<String> names = new LinkedHashSet<>(sizesA.keySet());
    names.addAll(sizesB.keySet());
    Map<String, Object> columns = new LinkedHashMap<>();
    for (String size : names) {
      if (sizesA.containsKey(size)) {
        columns.put(size + " A", sizesA.get(size));
      }
      if (sizesB.containsKey(size)) {
        columns.put(size + " B", sizesB.get(size));
      }
    }
    List<String[]> rows = table(columns);
    List<String> header = List.of(rows.get(0));
    List<String[]> withChanges = new ArrayList<>();
    for (String[] r : rows) {
      List<String> cells = new ArrayList<>();
      for (int i = 0; i < r.length; i++) {
        cells.add(r[i]);
        String name = header.get(i);
        if (name.endsWith(" B") && header.contains(name.replaceFirst(" B$", " A"))) {
          cells.add(
              r == rows.get(0)
                  ? name.replaceFirst(" B$", " B/A")
                  : change(r[header.indexOf(name.replaceFirst(" B$", " A"))], r[i]));
        }
      }
      withChanges.add(cells.toArray(String[]::new));
    }
    printRows(withChanges, out);
    out.println("\ntargets (2-core machine), A -> B:");
    Map<String, Map<String, Object>> targetsA = byTarget(a);
    Map<String, Map<String, Object>> targetsB = byTarget(b);
    Set<String> targets = new LinkedHashSet<>(targetsA.keySet());
    targets.addAll(targetsB.keySet());
    for (String t : targets) {
      Map<String, Object> ta = targetsA.get(t);
      Map<String, Object> tb = targetsB.get(t);
      out.printf(
          "  [%s -> %s] %s: %s -> %s%n",
          ta == null ? "absent" : verdict(ta),
          tb == null ? "absent" : verdict(tb),
          t,
          ta == null ? "-" : ta.get("value"),
          tb == null ? "-" : tb.get("value"));
    }
  }

  /** A run's targets by what they say and the size they were judged at. */
  @SuppressWarnings("unchecked")
  private static Map<String, Map<String, Object>> byTarget(Map<String, Object> run) {
    Map<String, Map<String, Object>> targets = new LinkedHashMap<>();
    ((List<Map<String, Object>>) run.get("targets"))
        .forEach(t -> targets.put(t.get("target") + " (size " + t.get("size") + ")", t));
    return targets;
  }

  private static final java.util.regex.Pattern NUMBER =
      java.util.regex.Pattern.compile("\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?|\\d+(?:\\.\\d+)?");

  /** What may stand between the numbers of a cell whose change is shown: words and separators. */
  private static final java.util.regex.Pattern FIGURES_ONLY =
      java.util.regex.Pattern.compile("[\\p{Alpha}\\s/,;()%|]*");

  /**
   * How each number of a cell moved from {@code a} to {@code b}, in per cent, joined by " / ";
   * blank where the two do not hold the same figures in the same words (text, a missing figure).
   */
  static String change(String a, String b) {
    String wordsA = NUMBER.matcher(a).replaceAll("");
    if (!wordsA.equals(NUMBER.matcher(b).replaceAll(""))
        || !FIGURES_ONLY.matcher(wordsA).matches()) {
      return "";
    }
    List<Double> from = numbers(a);
    List<Double> to = numbers(b);
    if (from.isEmpty() || from.size() != to.size()) {
      return "";
    }
    List<String> moves = new ArrayList<>();
    for (int i = 0; i < from.size(); i++) {
      double x = from.get(i);
      double y = to.get(i);
      double percent = 100 * (y / x - 1);
      moves.add(
          x == y
              ? "="
              : x == 0
                  ? "new"
                  : String.format(
                      Math.abs(percent) < 0.1
                          ? "%+.2f%%"
                          : Math.abs(percent) < 10 ? "%+.1f%%" : "%+.0f%%",
                      percent));
    }
    return String.join(" / ", moves);
  }

  private static List<Double> numbers(String cell) {
    List<Double> out = new ArrayList<>();
    java.util.regex.Matcher m = NUMBER.matcher(cell);
    while (m.find()) {
      out.add(Double.parseDouble(m.group().replace(",", "")));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static String machine(Map<String, Object> result) {
    Map<String, Object> machine = (Map<String, Object>) result.get("machine");
    return String.format(
        "%s cores, max heap %s MiB, %s, %s; load average at start %s, at end %s",
        machine.get("cores"),
        machine.get("maxHeapMiB"),
        machine.get("cpu"),
        machine.get("java"),
        machine.get("loadAverage"),
        result.get("loadAverageAtEnd"));
  }

  private static String verdict(Map<String, Object> target) {
    return target.get("met") == null
        ? "not judged"
        : Boolean.TRUE.equals(target.get("met")) ? "met" : "NOT met";
  }

  /** The report's rows, a column per entry of {@code sizes}, the first row naming them. */
  @SuppressWarnings("unchecked")
  private static List<String[]> table(Map<String, Object> sizes) {
    List<String> names = new ArrayList<>(sizes.keySet());
    List<String[]> rows = new ArrayList<>();
    rows.add(header(names));
    row(
        rows,
        sizes,
        names,
        "GpuNodes / offers / jobs",
        r -> {
          Map<String, Object> s = (Map<String, Object>) r.get("size");
          return s.get("gpuNodes") + " / " + s.get("offers") + " / " + s.get("jobs");
        });
    row(rows, sizes, names, "healthy GPUs", r -> str(get(r, "workload", "healthyGpus")));
    section(rows, names, "market core (in memory)");
    row(rows, sizes, names, "decisions/s", r -> fmt("%,.0f", get(r, "core", "decisionsPerSecond")));
    row(
        rows,
        sizes,
        names,
        "decisions per CPU-second",
        r -> fmt("%,.0f", get(r, "core", "decisionsPerCpuSecond")));
    row(
        rows,
        sizes,
        names,
        "CPU per decision p50 / p99 (us)",
        r ->
            fmt("%.1f", get(r, "core", "cpuP50Us"))
                + " / "
                + fmt("%.1f", get(r, "core", "cpuP99Us")));
    row(
        rows,
        sizes,
        names,
        "CPU placement / refusal p99 (us)",
        r ->
            fmt("%.0f", get(r, "core", "placementCpuP99Us"))
                + " / "
                + fmt("%.0f", get(r, "core", "refusalCpuP99Us")));
    row(
        rows,
        sizes,
        names,
        "p50 / p99 latency (us)",
        r -> fmt("%.1f", get(r, "core", "p50Us")) + " / " + fmt("%.1f", get(r, "core", "p99Us")));
    row(
        rows,
        sizes,
        names,
        "p99.9 / max (us)",
        r -> fmt("%.0f", get(r, "core", "p999Us")) + " / " + fmt("%.0f", get(r, "core", "maxUs")));
    row(
        rows,
        sizes,
        names,
        "placements / refusals",
        r -> get(r, "core", "placements") + " / " + get(r, "core", "refusals"));
    row(
        rows,
        sizes,
        names,
        "refusal p50 / p99 (us)",
        r ->
            fmt("%.0f", get(r, "core", "refusalP50Us"))
                + " / "
                + fmt("%.0f", get(r, "core", "refusalP99Us")));
    row(rows, sizes, names, "market build (ms)", r -> fmt("%.2f", get(r, "core", "marketBuildMs")));
    row(
        rows,
        sizes,
        names,
        "operator decision: update kept market + place, p50 / p99 (ms)",
        r ->
            fmt("%.3f", get(r, "core", "operatorDecisionMs"))
                + " / "
                + fmt("%.3f", get(r, "core", "operatorDecisionP99Ms")));
    row(
        rows,
        sizes,
        names,
        "market build from API objects (ms)",
        r -> fmt("%.1f", get(r, "core", "operatorRebuildMs")));
    row(rows, sizes, names, "invariants (core stream)", r -> ok(get(r, "core", "invariants")));
    section(rows, names, "heap");
    row(
        rows,
        sizes,
        names,
        "bytes per node (+2 offers) / job",
        r ->
            fmt("%.0f", get(r, "heap", "coreBytesPerNodeWithItsTwoOffers"))
                + " / "
                + fmt("%.0f", get(r, "heap", "coreBytesPerJob")));
    row(
        rows,
        sizes,
        names,
        "market index bytes per offer",
        r -> fmt("%.0f", get(r, "heap", "marketIndexBytesPerOffer")));
    row(
        rows,
        sizes,
        names,
        "API object bytes node/offer/job",
        r ->
            fmt("%.0f", get(r, "heap", "gpuNodeObjectBytes"))
                + " / "
                + fmt("%.0f", get(r, "heap", "gpuOfferObjectBytes"))
                + " / "
                + fmt("%.0f", get(r, "heap", "computeJobObjectBytes")));
    row(
        rows,
        sizes,
        names,
        "core / API objects held (MiB)",
        r ->
            fmt("%.1f", get(r, "heap", "coreHeldMiB"))
                + " / "
                + fmt("%.1f", get(r, "heap", "apiObjectsHeldMiB")));
    section(rows, names, "placement quality (batch at 90% of GPUs)");
    row(
        rows,
        sizes,
        names,
        "batch jobs / GPUs / max placeable",
        r ->
            get(r, "quality", "batchJobs")
                + " / "
                + get(r, "quality", "batchGpus")
                + " / "
                + get(r, "quality", "maxPlaceableGpus"));
    for (int p = 0; p < 4; p++) {
      final int i = p;
      row(
          rows,
          sizes,
          names,
          policyName(sizes, i) + ": cost/bound, GPUs/max",
          r -> {
            Map<String, Object> pm =
                ((List<Map<String, Object>>)
                        ((Map<String, Object>) r.get("quality")).get("policies"))
                    .get(i);
            return fmt("%.4f", pm.get("costOverOptimum"))
                + ", "
                + fmt("%.2f%%", 100 * Targets.num(pm.get("gpusOverMaxPlaceable")));
          });
    }
    row(
        rows,
        sizes,
        names,
        "market unplaced: alone/taken/frag/offer",
        r -> {
          Map<String, Object> by =
              (Map<String, Object>)
                  ((Map<String, Object>) r.get("quality")).get("marketUnplacedGpusByCause");
          List<String> parts = new ArrayList<>();
          for (String cause : Quality.CAUSES) {
            parts.add(String.valueOf(by.get(cause)));
          }
          return String.join(" / ", parts);
        });
    row(rows, sizes, names, "invariants (batch)", r -> ok(get(r, "quality", "invariants")));
    section(rows, names, "end to end through the API");
    row(rows, sizes, names, "API server", r -> str(get(r, "e2e", "apiServer")));
    row(rows, sizes, names, "operator JVM", r -> str(get(r, "e2e", "operatorJvm")));
    row(
        rows,
        sizes,
        names,
        "jobs created / bound / waiting",
        r ->
            get(r, "e2e", "jobsCreated")
                + " / "
                + get(r, "e2e", "jobsBound")
                + " / "
                + get(r, "e2e", "jobsWaiting"));
    row(
        rows,
        sizes,
        names,
        "GPUs asked / bound",
        r -> get(r, "e2e", "gpusAsked") + " / " + get(r, "e2e", "gpusBound"));
    row(
        rows,
        sizes,
        names,
        "jobs/s avg / best 60 s window",
        r ->
            fmt("%.1f", get(r, "e2e", "jobsPerSecond"))
                + " / "
                + fmt("%.1f", get(r, "e2e", "bestMinuteJobsPerSecond")));
    row(
        rows,
        sizes,
        names,
        "time to bind p50/p90/p99 (s)",
        r ->
            fmt("%.2f", get(r, "e2e", "bindP50S"))
                + " / "
                + fmt("%.2f", get(r, "e2e", "bindP90S"))
                + " / "
                + fmt("%.2f", get(r, "e2e", "bindP99S")));
    row(
        rows,
        sizes,
        names,
        "API writes per bound job (besides the fleet's upkeep)",
        r -> withBesides("%.2f", r, "writesPerBoundJob", "writesPerBoundJobBesidesIdle"));
    row(
        rows,
        sizes,
        names,
        "fleet's idle writes/s, upkeep writes in the run",
        r ->
            fmt("%.1f", get(r, "e2e", "idleWritesPerSecond"))
                + ", "
                + str(get(r, "e2e", "fleetUpkeepWrites")));
    row(rows, sizes, names, "409 conflicts", r -> str(get(r, "e2e", "conflicts")));
    row(
        rows,
        sizes,
        names,
        "reconciles per job",
        r -> fmt("%.1f", get(r, "e2e", "reconcilesPerJob")));
    row(
        rows,
        sizes,
        names,
        "CPU ms per job (besides the idle fleet's upkeep)",
        r -> withBesides("%.1f", r, "cpuMsPerJob", "cpuMsPerJobBesidesIdle"));
    // On a cluster on this host: the operator's share of the machine bounds what a cheaper
    // operator could gain; the JSON breaks the rest down by process.
    row(
        rows,
        sizes,
        names,
        "operator cores; machine CPU ms per job: wave (operator's), replay",
        r -> {
          Object wave = get(r, "e2e", "hostCpuMsPerJob");
          Object replay = get(r, "e2e", "ceilingHostCpuMsPerJob");
          String waved =
              wave instanceof Map<?, ?> m && m.get("machine") != null
                  ? fmt("%.0f", m.get("machine")) + " (" + fmt("%.0f", m.get("operator")) + ")"
                  : "-";
          String replayed =
              replay instanceof Map<?, ?> m && m.get("machine") != null
                  ? fmt("%.0f", m.get("machine"))
                  : "-";
          return fmt("%.2f", get(r, "e2e", "operatorCores")) + "; " + waved + ", " + replayed;
        });
    // Where the replay's machine CPU differs from the wave's, process by process: what sets the
    // share on saturated cores. The client is the operator in the wave, the benchmark in the
    // replay.
    row(
        rows,
        sizes,
        names,
        "CPU ms per job, wave / replay: API server, etcd, controller manager, client",
        r -> {
          if (!(get(r, "e2e", "hostCpuMsPerJob") instanceof Map<?, ?> wave)
              || !(get(r, "e2e", "ceilingHostCpuMsPerJob") instanceof Map<?, ?> replay)
              || wave.isEmpty()
              || replay.isEmpty()) {
            return "-";
          }
          return Stream.of("kube-apiserver", "etcd", "kube-controller")
                  .map(p -> fmt("%.0f", wave.get(p)) + "/" + fmt("%.0f", replay.get(p)))
                  .collect(Collectors.joining(", "))
              + ", "
              + fmt("%.0f", wave.get("operator"))
              + "/"
              + fmt("%.0f", replay.get("benchmark"));
        });
    row(
        rows,
        sizes,
        names,
        "operator CPU ms per job: http client, reconcile, gc, jit, other threads",
        r ->
            get(r, "e2e", "operatorThreadCpuMsPerJob") instanceof Map<?, ?> m && !m.isEmpty()
                ? m.values().stream().map(v -> fmt("%.1f", v)).collect(Collectors.joining(" / "))
                : "-");
    row(
        rows,
        sizes,
        names,
        "operator's GC in the wave: collections (pause ms) by collector",
        Report::collections);
    // Elapsed, as the JVM counts it: on busy cores a compiler thread also waits, so it bounds the
    // compiling's share of the CPU from above.
    row(
        rows,
        sizes,
        names,
        "JIT compile time per job, elapsed (ms)",
        r -> fmt("%.1f", get(r, "e2e", "jitCompileMsPerJob")));
    row(
        rows,
        sizes,
        names,
        "operator heap after GC / RSS (MiB)",
        r ->
            fmt("%.0f", get(r, "e2e", "heapAfterGcMiB"))
                + " / "
                + fmt("%.0f", get(r, "e2e", "rssMiB")));
    row(
        rows,
        sizes,
        names,
        "API raw write rate (/s)",
        r -> fmt("%.0f", get(r, "e2e", "rawWritesPerSecond")));
    row(
        rows,
        sizes,
        names,
        "ceiling jobs/s, fraction reached",
        r ->
            get(r, "e2e", "ceilingUnmeasuredKinds") instanceof List<?> l && !l.isEmpty()
                ? "none: no replay of "
                    + String.join(", ", l.stream().map(String::valueOf).toList())
                : fmt("%.1f", get(r, "e2e", "ceilingJobsPerSecond"))
                    + ", "
                    + fmt("%.0f%%", 100 * Targets.num(get(r, "e2e", "fractionOfCeiling"))));
    row(
        rows,
        sizes,
        names,
        "ceiling from each kind replayed alone (jobs/s)",
        r -> fmt("%.1f", get(r, "e2e", "ceilingByKindJobsPerSecond")));
    row(rows, sizes, names, "invariants (API)", r -> ok(get(r, "e2e", "invariants")));
    // The waves before the counted one: the same jobs bound by a JVM that had not yet compiled
    // them.
    row(
        rows,
        sizes,
        names,
        "warm-up waves, not counted: jobs/s, CPU ms, JIT ms per job",
        r -> {
          if (!(get(r, "e2e", "warmupWaves") instanceof List<?> waves) || waves.isEmpty()) {
            return "-";
          }
          List<String> parts = new ArrayList<>();
          for (Object wave : waves) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) wave;
            parts.add(
                fmt("%.1f", m.get("jobsPerSecond"))
                    + ", "
                    + fmt("%.1f", m.get("cpuMsPerJob"))
                    + ", "
                    + fmt("%.1f", m.get("jitCompileMsPerJob")));
          }
          return String.join(" | ", parts);
        });
    return rows;
  }

  /** A cell longer than this is not a figure but a description: it gets a line of its own. */
  private static final int WIDEST_CELL = 40;

  private static void printRows(List<String[]> rows, PrintStream out) {
    int[] width = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        if (i == 0 || r[i].length() <= WIDEST_CELL) {
          width[i] = Math.max(width[i], r[i].length());
        }
      }
    }
    for (String[] r : rows) {
      if (java.util.Arrays.stream(r).skip(1).anyMatch(c -> c.length() > WIDEST_CELL)) {
        out.println(r[0]);
        for (int i = 1; i < r.length; i++) {
          if (!r[i].isEmpty()) {
            out.printf("    %s: %s%n", rows.get(0)[i], r[i]);
          }
        }
        continue;
      }
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        line.append(String.format(i == 0 ? "%-" + width[i] + "s" : "  %" + width[i] + "s", r[i]));
      }
      out.println(line.toString().stripTrailing());
    }
  }

  /** The name of the i-th placement policy, from the first size that ran them. */
  @SuppressWarnings("unchecked")
  private static String policyName(Map<String, Object> sizes, int i) {
    for (Object size : sizes.values()) {
      if (get((Map<String, Object>) size, "quality", "policies") instanceof List<?> policies
          && policies.size() > i) {
        return str(((Map<String, Object>) policies.get(i)).get("policy"));
      }
    }
    return "policy " + (i + 1);
  }

  private static String[] header(List<String> names) {
    String[] h = new String[names.size() + 1];
    h[0] = "";
    for (int i = 0; i < names.size(); i++) {
      h[i + 1] = names.get(i);
    }
    return h;
  }

  private static void section(List<String[]> rows, List<String> names, String title) {
    String[] r = new String[names.size() + 1];
    java.util.Arrays.fill(r, "");
    r[0] = "-- " + title;
    rows.add(r);
  }

  @SuppressWarnings("unchecked")
  private static void row(
      List<String[]> rows,
      Map<String, Object> sizes,
      List<String> names,
      String label,
      java.util.function.Function<Map<String, Object>, String> value) {
    String[] r = new String[names.size() + 1];
    r[0] = label;
    for (int i = 0; i < names.size(); i++) {
      try {
        r[i + 1] = value.apply((Map<String, Object>) sizes.get(names.get(i)));
      } catch (RuntimeException e) {
        r[i + 1] = "-";
      }
    }
    rows.add(r);
  }

  @SuppressWarnings("unchecked")
  static Object get(Map<String, Object> r, String part, String key) {
    Object p = r.get(part);
    return p instanceof Map<?, ?> m ? ((Map<String, Object>) m).get(key) : null;
  }

  /** An end-to-end figure, and in brackets the same without the fleet's upkeep. */
  private static String withBesides(
      String format, Map<String, Object> r, String key, String besidesUpkeep) {
    return fmt(format, get(r, "e2e", key)) + " (" + fmt(format, get(r, "e2e", besidesUpkeep)) + ")";
  }

  private static String str(Object o) {
    return o == null ? "-" : o.toString();
  }

  /** Each collector's collections in the wave and their pauses; "none" when it had none. */
  private static String collections(Map<String, Object> r) {
    if (!(get(r, "e2e", "gcCollections") instanceof Map<?, ?> counts)) {
      return "-";
    }
    if (counts.isEmpty()) {
      return "none";
    }
    Object pauses = get(r, "e2e", "gcPauseMillis");
    return counts.entrySet().stream()
        .map(
            e ->
                shortCollector(e.getKey())
                    + " "
                    + e.getValue()
                    + " ("
                    + fmt("%.0f", pauses instanceof Map<?, ?> ms ? ms.get(e.getKey()) : null)
                    + ")")
        .collect(Collectors.joining(", "));
  }

  /** "young" for "G1 Young Generation", "full" for its "G1 Old Generation"; others as named. */
  private static String shortCollector(Object name) {
    return switch (String.valueOf(name)) {
      case "G1 Young Generation", "PS Scavenge", "Copy" -> "young";
      case "G1 Old Generation", "PS MarkSweep", "MarkSweepCompact" -> "full";
      default -> String.valueOf(name);
    };
  }

  private static String fmt(String f, Object o) {
    return o instanceof Number n ? String.format(f, n.doubleValue()) : "-";
  }

  @SuppressWarnings("unchecked")
  private static String ok(Object inv) {
    if (!(inv instanceof Map<?, ?> m)) {
      return "-";
    }
    return Boolean.TRUE.equals(m.get("ok")) ? "ok" : m.get("violations") + " violations";
  }
}
