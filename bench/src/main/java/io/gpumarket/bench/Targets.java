package io.gpumarket.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Where each figure stands against the targets for a 2-core machine. */
final class Targets {
  private Targets() {}

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> evaluate(Map<String, Object> bySize) {
    List<Map<String, Object>> out = new ArrayList<>();
    String largest = null;
    for (String s : List.of("XS", "S", "M", "L")) {
      if (bySize.containsKey(s)) {
        largest = s;
      }
    }
    if (largest == null) {
      return out;
    }
    Map<String, Object> big = (Map<String, Object>) bySize.get(largest);
    Map<String, Object> core = (Map<String, Object>) big.get("core");
    double dps = num(core.get("decisionsPerSecond"));
    double p99 = num(core.get("p99Us"));
    out.add(
        target(
            "market core >= 50,000 decisions/s at L",
            largest,
            String.format("%,.0f/s", dps),
            atL(largest, dps >= 50_000)));
    out.add(
        target(
            "market core p99 < 1 ms at L",
            largest,
            String.format("%.0f us", p99),
            atL(largest, p99 < 1000)));
    for (var e : bySize.entrySet()) {
      Map<String, Object> q =
          (Map<String, Object>) ((Map<String, Object>) e.getValue()).get("quality");
      Map<String, Object> market = ((List<Map<String, Object>>) q.get("policies")).get(0);
      double cost = num(market.get("costOverOptimum"));
      double gpus = num(market.get("gpusOverMaxPlaceable"));
      out.add(
          target(
              "cost within 2% of optimal",
              e.getKey(), String.format("%.4f x bound", cost), cost <= 1.02));
      out.add(
          target(
              ">= 99% of placeable GPUs placed",
              e.getKey(), String.format("%.2f%% of bound", 100 * gpus), gpus >= 0.99));
      Map<String, Object> e2e =
          (Map<String, Object>) ((Map<String, Object>) e.getValue()).get("e2e");
      if (Boolean.TRUE.equals(e2e.get("run"))) {
        // The fleet's upkeep (each node's uptime history as it moves, and hourly) comes with the
        // fleet, bound jobs or not; it is shown beside the figure judged.
        double writes = num(e2e.get("writesPerBoundJobBesidesIdle"));
        double fraction = num(e2e.get("fractionOfCeiling"));
        out.add(
            target(
                "at most 3 API writes per bound job",
                e.getKey(),
                String.format(
                    "%.2f (%.2f with the fleet's upkeep)",
                    writes, num(e2e.get("writesPerBoundJob"))),
                writes <= 3));
        // Above 100 % the ceiling was measured below a rate the server did serve (the replay comes
        // after the run, with every object stored: the mock slows as they pile up, and a real
        // server's quota controller recounts fuller namespaces): a figure, but no judgement.
        String share = String.format("%.0f%%", 100 * fraction);
        if (Double.isNaN(fraction)) {
          share =
              "no ceiling: the replay of "
                  + e2e.getOrDefault("ceilingUnmeasuredKinds", "its writes")
                  + " failed (not judged)";
        } else if (fraction > 1) {
          share += " (ceiling measured below the rate reached: not judged)";
        }
        out.add(
            target(
                "end to end >= 80% of the API ceiling",
                e.getKey(),
                share,
                Double.isNaN(fraction) || fraction > 1 ? null : fraction >= 0.8));
        double heapMiB = num(e2e.get("heapAfterGcMiB"));
        out.add(
            target(
                "operator's heap under 512 MiB at L, end to end (its own JVM)",
                e.getKey(),
                String.format("%.0f MiB after GC, -Xmx%s", heapMiB, OperatorJvm.heap()),
                atL(e.getKey(), heapMiB < 512 && OperatorJvm.heap().equals("512m"))));
      } else if (e2e.get("error") != null) {
        out.add(target("end to end run finishes", e.getKey(), (String) e2e.get("error"), false));
      }
    }
    Map<String, Object> heap = (Map<String, Object>) big.get("heap");
    double coreMiB = num(heap.get("coreHeldMiB"));
    double api = num(heap.get("apiObjectsHeldMiB"));
    out.add(
        target(
            "heap under 512 MiB at L, in memory (market core + API objects of nodes, offers, jobs)",
            largest,
            String.format("%.0f MiB", coreMiB + api),
            atL(largest, coreMiB + api < 512)));
    return out;
  }

  /** A target set for size L is neither met nor missed by a smaller run: null, "not judged". */
  private static Boolean atL(String size, boolean met) {
    return size.equals("L") ? met : null;
  }

  private static Map<String, Object> target(String what, String size, String value, Boolean met) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("target", what);
    m.put("size", size);
    m.put("value", value);
    m.put("met", met);
    return m;
  }

  static double num(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }
}
