package io.gpumarket.charts;

import static io.gpumarket.charts.Chart.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Lint, defaults, the values schema, toggles and naming of charts/gpumarket. */
class ChartTest {

  @Test
  void lintsCleanInStrictMode() {
    var result = Chart.helm().lint().strict().call();

    assertThat(result.isFailed()).as("lint failed: %s", result.getMessages()).isFalse();
    assertThat(result.getMessages())
        .as("strict lint reports warnings or errors")
        .noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
  }

  @Test
  void defaultsRenderTheOperatorAgentsAndPolicyButNoMonitoring() {
    var rendered = render();

    assertThat(rendered.keys())
        .containsExactlyInAnyOrder(
            "Namespace/gpumarket-node-lease",
            "ServiceAccount/gpumarket-operator",
            "ClusterRole/gpumarket-operator",
            "ClusterRoleBinding/gpumarket-operator",
            "Role/gpumarket-operator-leader-election",
            "RoleBinding/gpumarket-operator-leader-election",
            "Deployment/gpumarket-operator",
            "Service/gpumarket-operator",
            "ServiceAccount/gpumarket-agent",
            "ClusterRole/gpumarket-agent",
            "ClusterRoleBinding/gpumarket-agent",
            "Role/gpumarket-agent-heartbeats",
            "RoleBinding/gpumarket-agent-heartbeats",
            "DaemonSet/gpumarket-agent",
            "Service/gpumarket-agent",
            "ValidatingAdmissionPolicy/gpumarket-agent-own-node",
            "ValidatingAdmissionPolicyBinding/gpumarket-agent-own-node");
    for (JsonNode o : rendered.objects()) {
      String kind = o.path("kind").asText();
      boolean clusterScoped =
          kind.startsWith("Cluster")
              || kind.startsWith("ValidatingAdmission")
              || kind.equals("Namespace");
      boolean heartbeats = Chart.key(o).endsWith("/gpumarket-agent-heartbeats");
      assertThat(o.path("metadata").path("namespace").asText())
          .as("namespace of %s", Chart.key(o))
          .isEqualTo(clusterScoped ? "" : heartbeats ? "gpumarket-node-lease" : Chart.NAMESPACE);
    }
  }

  /**
   * An agent may create Leases where it heartbeats, and create cannot be limited by name: were that
   * the operator's namespace, an agent could take the leader-election Lease. The operator and the
   * agents must also agree on where the heartbeats are, or every node stays NotReady.
   */
  @Test
  void agentsHeartbeatOutsideTheNamespaceOfTheLeaderLease() {
    var rendered = render(Map.of("agent.heartbeats.namespace", "market-heartbeats"));

    String leaderLeaseNamespace =
        rendered
            .get("Role", "gpumarket-operator-leader-election")
            .at("/metadata/namespace")
            .asText();
    String heartbeatRoleNamespace =
        rendered.get("Role", "gpumarket-agent-heartbeats").at("/metadata/namespace").asText();
    assertThat(heartbeatRoleNamespace)
        .isEqualTo("market-heartbeats")
        .isNotEqualTo(leaderLeaseNamespace);
    assertThat(
            rendered
                .get("RoleBinding", "gpumarket-agent-heartbeats")
                .at("/metadata/namespace")
                .asText())
        .isEqualTo("market-heartbeats");
    assertThat(rendered.find("Namespace", "market-heartbeats")).isPresent();
    JsonNode operatorEnv =
        rendered.get("Deployment", "gpumarket-operator").at("/spec/template/spec/containers/0/env");
    JsonNode agentEnv =
        rendered.get("DaemonSet", "gpumarket-agent").at("/spec/template/spec/containers/0/env");
    assertThat(envValue(operatorEnv, "GPUMARKET_HEARTBEAT_NAMESPACE"))
        .isEqualTo("market-heartbeats");
    assertThat(envValue(agentEnv, "GPUMARKET_NAMESPACE")).isEqualTo("market-heartbeats");

    var existing =
        render(
            Map.of(
                "agent.heartbeats.namespace",
                "market-heartbeats",
                "agent.heartbeats.createNamespace",
                false));
    assertThat(existing.find("Namespace", "market-heartbeats")).isEmpty();
  }

  @Test
  void operatorRunsTwoReplicasWithLeaderElectionInItsNamespace() {
    JsonNode deployment = render().get("Deployment", "gpumarket-operator");

    assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(2);
    JsonNode env = deployment.at("/spec/template/spec/containers/0/env");
    assertThat(envValue(env, "GPUMARKET_LEADER_ELECTION_ENABLED")).isEqualTo("true");
    assertThat(
            envByName(env, "GPUMARKET_LEADER_ELECTION_NAMESPACE")
                .at("/valueFrom/fieldRef/fieldPath")
                .asText())
        .isEqualTo("metadata.namespace");
  }

  /**
   * java-operator-sdk (LeaderElectionManager.checkLeaseAccess) refuses to start unless the rules
   * that apply to the Lease gpumarket-operator in its namespace, taken together, grant get, create
   * and update; the fabric8 LeaderElector then needs exactly those verbs.
   */
  @Test
  void leaderElectionRulesGrantWhatTheLeaderElectorNeedsAndNoMore() {
    var rendered = render();
    List<JsonNode> rules = new ArrayList<>();
    rendered.get("Role", "gpumarket-operator-leader-election").path("rules").forEach(rules::add);
    assertThat(
            rendered
                .get("RoleBinding", "gpumarket-operator-leader-election")
                .at("/subjects/0/name")
                .asText())
        .isEqualTo("gpumarket-operator");

    Set<String> verbsOnTheLease = new HashSet<>();
    Set<String> verbsOnAnyLease = new HashSet<>();
    for (JsonNode rule : rules) {
      assertThat(rule.path("apiGroups").toString()).isEqualTo("[\"coordination.k8s.io\"]");
      assertThat(rule.path("resources").toString()).isEqualTo("[\"leases\"]");
      List<String> names = strings(rule.path("resourceNames"));
      List<String> verbs = strings(rule.path("verbs"));
      if (names.isEmpty()) {
        verbsOnAnyLease.addAll(verbs);
      }
      if (names.isEmpty() || names.contains("gpumarket-operator")) {
        verbsOnTheLease.addAll(verbs);
      }
    }
    // fabric8's LeaderElector renews and takes over with PATCH: without it a real API server
    // refuses the leader its renewal (the e2e leader-election scenario showed it).
    assertThat(verbsOnTheLease).containsExactlyInAnyOrder("get", "create", "update", "patch");
    assertThat(verbsOnAnyLease)
        .as("only create cannot be limited by name")
        .containsExactly("create");
  }

  @Test
  void withoutLeaderElectionOneReplicaAndNoLeaseRole() {
    var rendered = render(Map.of("operator.leaderElection.enabled", false, "operator.replicas", 1));

    assertThat(rendered.find("Role", "gpumarket-operator-leader-election")).isEmpty();
    JsonNode env =
        rendered.get("Deployment", "gpumarket-operator").at("/spec/template/spec/containers/0/env");
    assertThat(envValue(env, "GPUMARKET_LEADER_ELECTION_ENABLED")).isEqualTo("false");
    assertThat(envByName(env, "GPUMARKET_LEADER_ELECTION_NAMESPACE").isMissingNode()).isTrue();
  }

  @Test
  void refusesTwoReplicasWithoutLeaderElection() {
    assertThatThrownBy(() -> render(Map.of("operator.leaderElection.enabled", false)))
        .hasMessageContaining("operator.replicas > 1 needs operator.leaderElection.enabled");
  }

  @Test
  void crdsAreByteIdenticalCopiesOfManifests() throws IOException {
    Path chartCrds = Chart.CHART.resolve("crds");
    Path manifestCrds = Chart.MANIFESTS.resolve("crds");

    assertThat(fileNames(chartCrds)).isEqualTo(fileNames(manifestCrds)).isNotEmpty();
    for (String name : fileNames(manifestCrds)) {
      assertThat(Files.mismatch(chartCrds.resolve(name), manifestCrds.resolve(name)))
          .as("charts/gpumarket/crds/%s differs from manifests/crds/%s; copy it again", name, name)
          .isEqualTo(-1L);
    }
  }

  @Test
  void schemaRefusesAReplicaCountThatIsNotANumber() {
    assertThatThrownBy(() -> render(Map.of("operator.replicas", "two")))
        .hasMessageContaining("values don't meet the specifications of the schema")
        .hasMessageContaining("/operator/replicas")
        .hasMessageContaining("want integer");
  }

  @Test
  void schemaRefusesAnUnknownKey() {
    assertThatThrownBy(() -> render(Map.of("operator.replica", 3)))
        .hasMessageContaining("replica")
        .hasMessageContaining("not allowed");
  }

  @Test
  void schemaRefusesAnUnknownUptimeWindowAndARatioAboveOne() {
    assertThatThrownBy(
            () ->
                render(Map.of("metrics.prometheusRule.alerts.gpuNodeUptimeBelowSla.window", "2h")))
        .hasMessageContaining("window")
        .hasMessageContaining("1h");
    assertThatThrownBy(
            () -> render(Map.of("metrics.prometheusRule.alerts.gpuUtilizationLow.threshold", 1.5)))
        .hasMessageContaining("threshold");
  }

  @Test
  void serviceMonitorsScrapeTheOperatorAndTheAgentsWhenEnabled() {
    assertThat(render().ofKind("ServiceMonitor")).isEmpty();

    var rendered =
        render(
            Map.of(
                "metrics.serviceMonitor.enabled",
                true,
                "metrics.serviceMonitor.labels.release",
                "kps"));

    JsonNode operator = rendered.get("ServiceMonitor", "gpumarket-operator");
    assertThat(operator.at("/spec/endpoints/0/port").asText()).isEqualTo("http");
    assertThat(operator.at("/spec/endpoints/0/honorLabels").asBoolean()).isTrue();
    assertThat(operator.at("/metadata/labels/release").asText()).isEqualTo("kps");
    assertThat(operator.at("/spec/selector/matchLabels"))
        .isEqualTo(rendered.get("Service", "gpumarket-operator").at("/spec/selector"));
    JsonNode agent = rendered.get("ServiceMonitor", "gpumarket-agent");
    assertThat(agent.at("/spec/endpoints/0/port").asText()).isEqualTo("metrics");
    assertThat(agent.at("/spec/selector/matchLabels"))
        .isEqualTo(rendered.get("Service", "gpumarket-agent").at("/spec/selector"));
  }

  @Test
  void withoutAgentsNoDaemonSetAgentRbacPolicyOrAgentMonitor() {
    var rendered = render(Map.of("agent.enabled", false, "metrics.serviceMonitor.enabled", true));

    assertThat(rendered.keys())
        .noneMatch(k -> k.contains("gpumarket-agent"))
        .contains("Deployment/gpumarket-operator", "ServiceMonitor/gpumarket-operator");
  }

  @Test
  void admissionPolicyCanBeTurnedOffForClustersBefore130() {
    var rendered = render(Map.of("agent.admissionPolicy.enabled", false));

    assertThat(rendered.ofKind("ValidatingAdmissionPolicy")).isEmpty();
    assertThat(rendered.ofKind("ValidatingAdmissionPolicyBinding")).isEmpty();
    assertThat(rendered.find("DaemonSet", "gpumarket-agent")).isPresent();
  }

  @Test
  void agentNodeSelectionComesFromValues() {
    var rendered =
        Chart.renderWithValues(
            """
            agent:
              nodeSelector: {gpumarket.io/gpu-host: null}
              runtimeClassName: ""
              affinity:
                nodeAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                    nodeSelectorTerms:
                      - matchExpressions:
                          - {key: nvidia.com/gpu.present, operator: Exists}
            """);
    JsonNode pod = rendered.get("DaemonSet", "gpumarket-agent").at("/spec/template/spec");

    assertThat(pod.has("nodeSelector")).isFalse();
    assertThat(pod.has("runtimeClassName")).isFalse();
    assertThat(
            pod.at(
                    "/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution"
                        + "/nodeSelectorTerms/0/matchExpressions/0/key")
                .asText())
        .isEqualTo("nvidia.com/gpu.present");
  }

  @Test
  void anotherReleaseNameAndNamespacePrefixTheNamesAndFollowIntoThePolicy() {
    var rendered =
        Chart.parse(
            Chart.helm()
                .template()
                .withName("market")
                .withNamespace("gpus")
                .set("metrics.serviceMonitor.enabled", true)
                .call());
    var r = new Chart.Rendered(rendered);

    // The heartbeat namespace is named by a value, not after the release.
    assertThat(r.keys())
        .filteredOn(k -> !k.equals("Namespace/gpumarket-node-lease"))
        .allMatch(k -> k.contains("/market-gpumarket-"), "prefixed");
    assertThat(
            r.get("ValidatingAdmissionPolicy", "market-gpumarket-agent-own-node")
                .at("/spec/matchConditions/0/expression")
                .asText())
        .isEqualTo(
            "request.userInfo.username == 'system:serviceaccount:gpus:market-gpumarket-agent'");
    assertThat(
            r.get("ValidatingAdmissionPolicyBinding", "market-gpumarket-agent-own-node")
                .at("/spec/policyName")
                .asText())
        .isEqualTo("market-gpumarket-agent-own-node");
    JsonNode agentEnv =
        r.get("DaemonSet", "market-gpumarket-agent").at("/spec/template/spec/containers/0/env");
    assertThat(envValue(agentEnv, "GPUMARKET_NAMESPACE")).isEqualTo("gpumarket-node-lease");
    assertThat(
            r.get("ClusterRoleBinding", "market-gpumarket-agent")
                .at("/subjects/0/namespace")
                .asText())
        .isEqualTo("gpus");
    assertThat(
            r.get("Deployment", "market-gpumarket-operator")
                .at("/spec/template/spec/serviceAccountName")
                .asText())
        .isEqualTo("market-gpumarket-operator");
  }

  @Test
  void imagesDefaultToTheAppVersionAndCanBeOverridden() {
    var rendered = render(Map.of("agent.image.tag", "dev", "operator.image.pullPolicy", "Always"));

    JsonNode operator =
        rendered.get("Deployment", "gpumarket-operator").at("/spec/template/spec/containers/0");
    assertThat(operator.path("image").asText())
        .isEqualTo("ghcr.io/gpumarket/gpumarket-operator:0.1.0");
    assertThat(operator.path("imagePullPolicy").asText()).isEqualTo("Always");
    assertThat(
            rendered
                .get("DaemonSet", "gpumarket-agent")
                .at("/spec/template/spec/containers/0/image")
                .asText())
        .isEqualTo("ghcr.io/gpumarket/gpumarket-agent:dev");
  }

  /** A value is documented by a comment above it or above one of the keys that contain it. */
  @Test
  void everyValueIsDocumented() throws IOException {
    List<String> lines = Files.readAllLines(Chart.CHART.resolve("values.yaml"));
    List<String> undocumented = new ArrayList<>();
    // indentation and "documented" of the keys that contain the current line
    java.util.Deque<int[]> parents = new java.util.ArrayDeque<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (!line.matches("^\\s*[A-Za-z][A-Za-z0-9./_-]*:.*")) {
        continue;
      }
      int indent = line.length() - line.stripLeading().length();
      while (!parents.isEmpty() && parents.peek()[0] >= indent) {
        parents.pop();
      }
      boolean documented =
          (i > 0 && lines.get(i - 1).trim().startsWith("#"))
              || parents.stream().anyMatch(p -> p[1] == 1);
      boolean opensSection = line.trim().endsWith(":");
      if (!opensSection && !documented) {
        undocumented.add((i + 1) + ": " + line.trim());
      }
      parents.push(new int[] {indent, documented ? 1 : 0});
    }
    assertThat(undocumented).as("values without a comment above them").isEmpty();
  }

  static JsonNode envByName(JsonNode env, String name) {
    for (JsonNode e : env) {
      if (e.path("name").asText().equals(name)) {
        return e;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  static String envValue(JsonNode env, String name) {
    return envByName(env, name).path("value").asText(null);
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static List<String> fileNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
