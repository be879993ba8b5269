package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TargetsTest {
  private static Map<String, Object> size(double decisionsPerSecond) {
    return Map.of(
        "core", Map.of("decisionsPerSecond", decisionsPerSecond, "p99Us", 100.0),
        "quality",
            Map.of(
                "policies", List.of(Map.of("costOverOptimum", 1.01, "gpusOverMaxPlaceable", 0.95))),
        "e2e", Map.of("run", false),
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
}
