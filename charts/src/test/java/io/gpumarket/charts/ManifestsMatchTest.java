package io.gpumarket.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The plain manifests (manifests/0*.yaml, for kubectl apply) and the chart's default render as
 * release "gpumarket" in gpumarket-system describe the same objects.
 *
 * <p>Each object of the manifests must be rendered by the chart with the same kind and name, and be
 * equal to it as a whole (apiVersion, spec, rules, roleRef, subjects, ...) once the labels that
 * only Helm adds ({@link #HELM_LABELS}) are removed wherever they appear (metadata, selectors, pod
 * templates). The chart may add those labels, and app.kubernetes.io/name, to an object's own
 * metadata, and nothing else. The manifests' Namespace of the release is the one exception: Helm
 * installs into a namespace it does not own ({@code --create-namespace}); the agents' heartbeat
 * namespace is rendered like any other object. Conversely the chart renders nothing by default that
 * the manifests lack.
 */
class ManifestsMatchTest {
  static final List<String> FILES =
      List.of("01-rbac.yaml", "02-operator.yaml", "03-agent.yaml", "04-agent-policy.yaml");

  /** Labels the chart puts on objects for Helm's sake, absent from the plain manifests. */
  static final Set<String> HELM_LABELS =
      Set.of(
          "helm.sh/chart",
          "app.kubernetes.io/managed-by",
          "app.kubernetes.io/instance",
          "app.kubernetes.io/version",
          "app.kubernetes.io/part-of");

  private static final ObjectMapper SORTED =
      new YAMLMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private static final Chart.Rendered RENDERED = Chart.render();

  static Stream<String> manifestObjects() {
    return FILES.stream()
        .flatMap(f -> Chart.parse(Chart.MANIFESTS.resolve(f)).stream())
        .filter(o -> !isTheReleaseNamespace(o))
        .map(Chart::key);
  }

  private static boolean isTheReleaseNamespace(JsonNode o) {
    return o.path("kind").asText().equals("Namespace")
        && o.at("/metadata/name").asText().equals(Chart.NAMESPACE);
  }

  @ParameterizedTest
  @MethodSource("manifestObjects")
  void chartRendersTheSameObjectAsTheManifests(String key) {
    ObjectNode manifest = manifest(key);
    String kind = manifest.path("kind").asText();
    ObjectNode chart = RENDERED.get(kind, manifest.at("/metadata/name").asText());

    // The object's own labels: the manifest's, plus Helm's.
    Map<String, Object> manifestLabels = labels(manifest);
    Map<String, Object> chartLabels = labels(chart);
    assertThat(chartLabels).containsAllEntriesOf(manifestLabels);
    assertThat(chartLabels.keySet())
        .as("labels of %s beyond the manifest's", key)
        .allMatch(
            l ->
                manifestLabels.containsKey(l)
                    || HELM_LABELS.contains(l)
                    || l.equals("app.kubernetes.io/name"));

    assertThat(canonical(chart))
        .as("%s rendered by the chart (left) against manifests/ (right)", key)
        .isEqualTo(canonical(manifest));
  }

  @Test
  void defaultRenderHasNothingTheManifestsLack() {
    List<String> inManifests = manifestObjects().toList();

    assertThat(RENDERED.keys()).allMatch(inManifests::contains, "in manifests/");
  }

  @Test
  void manifestsNameTheNamespaceTheChartIsRenderedIn() {
    List<String> objectNamespaces =
        FILES.stream()
            .flatMap(f -> Chart.parse(Chart.MANIFESTS.resolve(f)).stream())
            .map(o -> o.at("/metadata/namespace").asText())
            .filter(n -> !n.isEmpty())
            .distinct()
            .toList();
    List<String> namespaces =
        FILES.stream()
            .flatMap(f -> Chart.parse(Chart.MANIFESTS.resolve(f)).stream())
            .filter(o -> o.path("kind").asText().equals("Namespace"))
            .map(o -> o.at("/metadata/name").asText())
            .toList();

    assertThat(namespaces).contains(Chart.NAMESPACE);
    assertThat(namespaces).containsExactlyInAnyOrderElementsOf(objectNamespaces);
  }

  private static ObjectNode manifest(String key) {
    return FILES.stream()
        .flatMap(f -> Chart.parse(Chart.MANIFESTS.resolve(f)).stream())
        .filter(o -> Chart.key(o).equals(key))
        .findFirst()
        .orElseThrow();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> labels(JsonNode o) {
    JsonNode labels = o.at("/metadata/labels");
    return labels.isMissingNode() ? Map.of() : Chart.JSON.convertValue(labels, Map.class);
  }

  /** The object without its metadata's labels and annotations, Helm's labels stripped, as YAML. */
  private static String canonical(ObjectNode o) {
    ObjectNode copy = o.deepCopy();
    ObjectNode metadata = (ObjectNode) copy.path("metadata");
    metadata.remove(List.of("labels", "annotations"));
    stripHelmLabels(copy);
    try {
      return SORTED.writeValueAsString(Chart.JSON.convertValue(copy, Object.class));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void stripHelmLabels(JsonNode node) {
    if (node instanceof ObjectNode o) {
      o.remove(HELM_LABELS);
      for (Iterator<JsonNode> it = o.elements(); it.hasNext(); ) {
        stripHelmLabels(it.next());
      }
    } else if (node.isArray()) {
      node.forEach(ManifestsMatchTest::stripHelmLabels);
    }
  }
}
