package io.gpumarket.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PrometheusRule the chart renders: valid for Prometheus ({@code promtool check rules}), and
 * each alert fires on a synthetic series of a broken market and not on a healthy one ({@code
 * promtool test rules} with src/test/resources/alerts-test.yaml).
 */
class AlertRulesTest {
  static final List<String> ALERTS =
      List.of(
          "GpuNodeDown",
          "GpuNodeUptimeBelowSla",
          "GpuNodeVerificationFailing",
          "ComputeJobPendingTooLong",
          "GpuUtilizationLow");

  @TempDir Path dir;

  /** The rule groups of the rendered PrometheusRule, as a Prometheus rules file. */
  static JsonNode ruleGroups(Map<String, Object> values) {
    Map<String, Object> all = new java.util.HashMap<>(values);
    all.put("metrics.prometheusRule.enabled", true);
    List<? extends JsonNode> rules = Chart.render(all).ofKind("PrometheusRule");
    assertThat(rules).hasSize(1);
    return rules.get(0).path("spec");
  }

  @Test
  void rulesAreValidAndEachAlertFiresOnlyOnABrokenMarket() throws IOException {
    JsonNode spec = ruleGroups(Map.of());
    assertThat(alertNames(spec)).containsExactlyElementsOf(ALERTS);
    Files.writeString(dir.resolve("rules.yaml"), Chart.YAML.writeValueAsString(spec));
    try (InputStream tests = getClass().getResourceAsStream("/alerts-test.yaml")) {
      Files.copy(tests, dir.resolve("alerts-test.yaml"));
    }

    Promtool.Result check = Promtool.run(dir, "check", "rules", "rules.yaml");
    assertThat(check.exitCode()).as("promtool check rules:\n%s", check.output()).isZero();

    Promtool.Result test = Promtool.run(dir, "test", "rules", "alerts-test.yaml");
    assertThat(test.exitCode()).as("promtool test rules:\n%s", test.output()).isZero();
    assertThat(test.output()).contains("SUCCESS");
  }

  @Test
  void everyAlertIsTestedFiringAndQuiet() throws IOException {
    JsonNode tests = Chart.YAML.readTree(getClass().getResource("/alerts-test.yaml"));
    List<String> firing = new ArrayList<>();
    List<String> quiet = new ArrayList<>();
    for (JsonNode group : tests.path("tests")) {
      for (JsonNode t : group.path("alert_rule_test")) {
        (t.path("exp_alerts").isEmpty() ? quiet : firing).add(t.path("alertname").asText());
      }
    }

    assertThat(firing).containsAll(ALERTS);
    assertThat(quiet).containsAll(ALERTS);
  }

  @Test
  void thresholdsDurationsAndSwitchesComeFromValues() {
    JsonNode spec =
        ruleGroups(
            Map.of(
                "metrics.prometheusRule.alerts.gpuNodeUptimeBelowSla.threshold", 0.95,
                "metrics.prometheusRule.alerts.gpuNodeUptimeBelowSla.window", "7d",
                "metrics.prometheusRule.alerts.gpuNodeDown.for", "2m",
                "metrics.prometheusRule.alerts.gpuUtilizationLow.enabled", false,
                "metrics.prometheusRule.additionalAlertLabels.team", "gpu-platform"));

    assertThat(alertNames(spec)).doesNotContain("GpuUtilizationLow").hasSize(4);
    JsonNode uptime = alert(spec, "GpuNodeUptimeBelowSla");
    assertThat(uptime.path("expr").asText())
        .isEqualTo("max by (node) (gpumarket_node_uptime_ratio{window=\"7d\"}) < 0.95");
    assertThat(alert(spec, "GpuNodeDown").path("for").asText()).isEqualTo("2m");
    assertThat(uptime.at("/labels/team").asText()).isEqualTo("gpu-platform");
  }

  static List<String> alertNames(JsonNode spec) {
    List<String> names = new ArrayList<>();
    spec.path("groups")
        .forEach(g -> g.path("rules").forEach(r -> names.add(r.path("alert").asText())));
    return names;
  }

  private static JsonNode alert(JsonNode spec, String name) {
    for (JsonNode g : spec.path("groups")) {
      for (JsonNode r : g.path("rules")) {
        if (r.path("alert").asText().equals(name)) {
          return r;
        }
      }
    }
    throw new AssertionError("no alert " + name);
  }
}
