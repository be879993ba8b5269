package io.gpumarket.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The alerts and the Grafana dashboard query only metrics that the operator and the agent export.
 *
 * <p>The exported names are read from the sources that declare them, MarketMetrics (operator) and
 * AgentMetrics (agent), rather than scraped: MarketMetrics needs the operator's informer caches to
 * be built. Each declaration is a simpleclient builder ({@code Counter.build().name("...")}) or a
 * {@code GaugeMetricFamily}; the test fails if a source names a gpumarket_ metric some other way,
 * so the list cannot silently fall behind. simpleclient 0.16 exposes a counter declared as x_total
 * as x_total and x_created, a histogram x as x_bucket, x_sum, x_count and x_created.
 */
class MetricNamesTest {
  static final List<Path> SOURCES =
      List.of(
          Chart.REPO.resolve("operator/src/main/java/io/gpumarket/operator/MarketMetrics.java"),
          Chart.REPO.resolve("agent/src/main/java/io/gpumarket/agent/AgentMetrics.java"));

  private static final Pattern BUILDER =
      Pattern.compile(
          "(Counter|Gauge|Histogram|Summary)\\s*\\.build\\(\\)\\s*\\.name\\(\\s*\"(gpumarket_\\w+)\"");
  private static final Pattern FAMILY =
      Pattern.compile("new\\s+(Gauge|Counter)MetricFamily\\(\\s*\"(gpumarket_\\w+)\"");
  private static final Pattern ANY_NAME = Pattern.compile("\"(gpumarket_\\w+)\"");
  private static final Pattern FAMILY_BY_CONSTANT =
      Pattern.compile("new\\s+(Gauge|Counter)MetricFamily\\(\\s*([A-Z][A-Z0-9_]*)\\s*,");
  private static final Pattern CONSTANT =
      Pattern.compile(
          "static\\s+final\\s+String\\s+([A-Z][A-Z0-9_]*)\\s*=\\s*\"(gpumarket_\\w+)\"");
  private static final Pattern USED = Pattern.compile("\\bgpumarket_[a-z0-9_]+\\b");

  /** Every sample name the two processes expose. */
  static Set<String> exported;

  /** Each declared metric with the sample names it exposes. */
  static Map<String, List<String>> families;

  @BeforeAll
  static void readExportedNames() throws IOException {
    exported = new TreeSet<>();
    families = new java.util.TreeMap<>();
    for (Path source : SOURCES) {
      String code = Files.readString(source);
      Set<String> declared = new TreeSet<>();
      for (Pattern p : List.of(BUILDER, FAMILY)) {
        Matcher m = p.matcher(code);
        while (m.find()) {
          declared.add(m.group(2));
          families.put(m.group(2), samples(m.group(1), m.group(2)));
          exported.addAll(samples(m.group(1), m.group(2)));
        }
      }
      Map<String, String> constants = new java.util.HashMap<>();
      Matcher c = CONSTANT.matcher(code);
      while (c.find()) {
        constants.put(c.group(1), c.group(2));
      }
      Matcher f = FAMILY_BY_CONSTANT.matcher(code);
      while (f.find()) {
        String name = constants.get(f.group(2));
        if (name != null) {
          declared.add(name);
          families.put(name, samples(f.group(1), name));
          exported.addAll(samples(f.group(1), name));
        }
      }
      Set<String> named = new TreeSet<>();
      Matcher m = ANY_NAME.matcher(code);
      while (m.find()) {
        named.add(m.group(1));
      }
      assertThat(declared)
          .as("metric names in %s that this test cannot classify", source.getFileName())
          .isEqualTo(named);
    }
  }

  static List<String> samples(String type, String name) {
    return switch (type) {
      case "Counter" -> {
        String base = name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
        yield List.of(base + "_total", base + "_created");
      }
      case "Histogram" ->
          List.of(name + "_bucket", name + "_sum", name + "_count", name + "_created");
      case "Summary" -> List.of(name, name + "_sum", name + "_count", name + "_created");
      default -> List.of(name);
    };
  }

  @Test
  void sourcesDeclareTheMetricsTheReadmeLists() {
    assertThat(exported)
        .contains(
            "gpumarket_gpus",
            "gpumarket_node_up",
            "gpumarket_node_uptime_ratio",
            "gpumarket_node_challenges_total",
            "gpumarket_jobs",
            "gpumarket_utilization_ratio",
            "gpumarket_job_wait_seconds_bucket",
            "gpumarket_agent_heartbeats_total",
            "gpumarket_agent_last_heartbeat_timestamp_seconds");
  }

  @Test
  void alertsQueryOnlyExportedMetrics() {
    JsonNode spec = AlertRulesTest.ruleGroups(Map.of());
    List<String> exprs = new ArrayList<>();
    spec.path("groups")
        .forEach(g -> g.path("rules").forEach(r -> exprs.add(r.path("expr").asText())));

    assertThat(exprs).hasSize(AlertRulesTest.ALERTS.size());
    exprs.forEach(MetricNamesTest::assertQueriesExportedMetrics);
  }

  @Test
  void alertTestsFeedOnlyExportedMetrics() throws IOException {
    JsonNode tests = Chart.YAML.readTree(getClass().getResource("/alerts-test.yaml"));
    for (JsonNode group : tests.path("tests")) {
      for (JsonNode series : group.path("input_series")) {
        assertQueriesExportedMetrics(series.path("series").asText());
      }
    }
  }

  @Test
  void dashboardIsValidJsonInALabelledConfigMapAndQueriesOnlyExportedMetrics() throws IOException {
    assertThat(Chart.render().ofKind("ConfigMap")).isEmpty();
    var rendered = Chart.render(Map.of("metrics.grafanaDashboard.enabled", true));
    JsonNode configMap = rendered.get("ConfigMap", "gpumarket-dashboard");
    assertThat(configMap.at("/metadata/labels/grafana_dashboard").asText()).isEqualTo("1");

    JsonNode dashboard = Chart.JSON.readTree(configMap.at("/data/gpumarket.json").asText());
    assertThat(dashboard.path("uid").asText()).isEqualTo("gpumarket");
    List<String> exprs = dashboard.findValuesAsText("expr");
    assertThat(exprs).hasSizeGreaterThanOrEqualTo(15);
    exprs.forEach(MetricNamesTest::assertQueriesExportedMetrics);
    String queries = String.join("\n", exprs);
    assertThat(families.keySet())
        .as("metrics that no panel shows")
        .allMatch(family -> families.get(family).stream().anyMatch(queries::contains));
  }

  static void assertQueriesExportedMetrics(String expr) {
    Matcher m = USED.matcher(expr);
    List<String> used = new ArrayList<>();
    while (m.find()) {
      used.add(m.group());
    }
    assertThat(used).as("metrics queried by: %s", expr).isNotEmpty();
    assertThat(exported).as("exported metrics, queried by: %s", expr).containsAll(used);
  }
}
