package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TargetsTest {
  private static Map<String, Object> size(double decisionsPerSecond) {
    return size(decisionsPerSecond, Map.of("run", false));
  }

  private static Map<String, Object> size(double decisionsPerSecond, Map<String, Object> e2e) {
    return Map.of(
        "core", Map.of("decisionsPerSecond", decisionsPerSecond, "p99Us", 100.0),
        "quality",
            Map.of(
                "policies", List.of(Map.of("costOverOptimum", 1.01, "gpusOverMaxPlaceable", 0.95))),
        "e2e", e2e,
        "heap", Map.of("coreHeldMiB", 1.0, "apiObjectsHeldMiB", 2.0));
  }

  private static Map<String, Object> find(List<Map<String, Object>> targets, String prefix) {
    return targets.stream()
        .filter(t -> ((String) t.get("target")).startsWith(prefix))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void targetsSetForLAreJudgedOnlyOnARunAtL() {
    Map<String, Object> small = new HashMap<>(Map.of("S", size(60_000)));
    var atS = Targets.evaluate(small);
    assertThat(find(atS, "market core >= 50,000").get("met")).isNull();
    assertThat(find(atS, "heap under 512 MiB").get("met")).isNull();
    assertThat(find(atS, "cost within 2%").get("met")).isEqualTo(true);
    assertThat(find(atS, ">= 99% of placeable").get("met")).isEqualTo(false);

    var atL = Targets.evaluate(new HashMap<>(Map.of("S", size(1), "L", size(60_000))));
    assertThat(find(atL, "market core >= 50,000").get("met")).isEqualTo(true);
    assertThat(find(atL, "market core >= 50,000").get("size")).isEqualTo("L");
    assertThat(Targets.evaluate(Map.of("L", size(40_000))).get(0).get("met")).isEqualTo(false);
  }

  @Test
  void anEndToEndRunAtLJudgesTheOperatorsOwnHeapAndOneThatDidNotFinishMissesWithItsError() {
    Map<String, Object> finished =
        Map.of(
            "run", true,
            "writesPerBoundJob", 12.0,
            "writesPerBoundJobBesidesIdle", 2.5,
            "fractionOfCeiling", 0.5,
            "heapAfterGcMiB", 300.0);
    var done = Targets.evaluate(Map.of("L", size(60_000, finished)));
    assertThat(find(done, "operator's heap under 512 MiB").get("met")).isEqualTo(true);
    assertThat(find(done, "operator's heap under 512 MiB").get("value"))
        .isEqualTo("300 MiB after GC, -Xmx512m");
    assertThat(done).noneMatch(t -> t.get("target").equals("end to end run finishes"));
    // Judged on the jobs' writes; the fleet's upkeep is shown beside them.
    assertThat(find(done, "at most 3 API writes").get("met")).isEqualTo(true);
    assertThat(find(done, "at most 3 API writes").get("value"))
        .isEqualTo("2.50 (12.00 with the fleet's upkeep)");

    Map<String, Object> overCeiling = new java.util.HashMap<>(finished);
    overCeiling.put("fractionOfCeiling", 1.12);
    var over = Targets.evaluate(Map.of("M", size(60_000, overCeiling)));
    assertThat(find(over, "end to end >= 80%").get("met")).isNull();
    assertThat((String) find(over, "end to end >= 80%").get("value")).startsWith("112% (ceiling");
    assertThat(find(done, "end to end >= 80%").get("met")).isEqualTo(false);

    // A kind of write the replay could not measure leaves no ceiling to judge against.
    Map<String, Object> unmeasured = new java.util.HashMap<>(finished);
    unmeasured.put("fractionOfCeiling", Double.NaN);
    unmeasured.put("ceilingUnmeasuredKinds", List.of("POST pods"));
    var noCeiling = Targets.evaluate(Map.of("L", size(60_000, unmeasured)));
    assertThat(find(noCeiling, "end to end >= 80%").get("met")).isNull();
    assertThat(find(noCeiling, "end to end >= 80%").get("value"))
        .isEqualTo("no ceiling: the replay of [POST pods] failed (not judged)");

    String error = "the operator's JVM stopped answering (exit code 3, ...)";
    var failed = Targets.evaluate(Map.of("L", size(60_000, Map.of("run", false, "error", error))));
    assertThat(find(failed, "end to end run finishes").get("met")).isEqualTo(false);
    assertThat(find(failed, "end to end run finishes").get("value")).isEqualTo(error);
    assertThat(failed).noneMatch(t -> ((String) t.get("target")).startsWith("operator's heap"));
  }
}
