package io.gpumarket.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Evaluates the CEL rules of the generated CRDs with Google's CEL implementation, as an API server
 * of Kubernetes 1.25+ would on create ({@code oldSelf} absent) and update. The API servers that run
 * here (fabric8's mock, Kubernetes 1.20) ignore CEL, so this is where the rules are proven.
 */
class CelRulesTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(dev.cel.parser.CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .build();
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  /** The messages of the rules that refuse {@code value} at {@code path} of the CRD's spec. */
  static List<String> refusals(String crd, String yamlValue, String yamlOld, String... path)
      throws Exception {
    JsonNode schema =
        YAML.readTree(Path.of("target/classes/META-INF/fabric8/" + crd + "-v1.yml").toFile())
            .at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
    for (String p : path) {
      schema = schema.path("properties").path(p);
    }
    Object self = plain(YAML.readTree(yamlValue));
    Object old = yamlOld == null ? null : plain(YAML.readTree(yamlOld));
    List<String> refused = new ArrayList<>();
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      String expression = rule.get("rule").asText();
      boolean transition = expression.contains("oldSelf");
      if (transition && old == null) {
        continue; // transition rules run only on update
      }
      var ast = COMPILER.compile(expression).getAst();
      Map<String, Object> vars = new HashMap<>();
      vars.put("self", self);
      if (old != null) {
        vars.put("oldSelf", old);
      }
      if (!Boolean.TRUE.equals(RUNTIME.createProgram(ast).eval(vars))) {
        refused.add(rule.get("message").asText());
      }
    }
    return refused;
  }

  /** JSON as CEL's Java runtime takes it: maps, lists, strings, longs, doubles, booleans. */
  private static Object plain(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.fields().forEachRemaining(e -> map.put(e.getKey(), plain(e.getValue())));
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(n -> list.add(plain(n)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }

  @Test
  void offerRules() throws Exception {
    String good =
        "{provider: acme, model: h100-80gb, nodeNames: [a], pricePerGpuHour: '2.40', minLeaseDuration: 1h, maxLeaseDuration: 24h}";
    assertThat(refusals("gpuoffers.gpumarket.io", good, null)).isEmpty();
    assertThat(
            refusals(
                "gpuoffers.gpumarket.io",
                "{provider: acme, model: l4, pricePerGpuHour: '1', minLeaseDuration: 48h, maxLeaseDuration: 90m}",
                null))
        .containsExactlyInAnyOrder(
            "an offer needs nodeSelector or nodeNames to say which GpuNodes it sells",
            "minLeaseDuration must not be longer than maxLeaseDuration");
    assertThat(refusals("gpuoffers.gpumarket.io", "'0.000'", null, "pricePerGpuHour"))
        .containsExactly("pricePerGpuHour must be greater than 0");
    assertThat(refusals("gpuoffers.gpumarket.io", "'2.40'", null, "pricePerGpuHour")).isEmpty();
  }

  @Test
  void leaseRules() throws Exception {
    assertThat(
            refusals(
                "gpuleases.gpumarket.io",
                "{models: [l4], gpus: 8, gpusPerNode: 4, duration: 24h, release: false}",
                null))
        .isEmpty();
    assertThat(
            refusals(
                "gpuleases.gpumarket.io",
                "{gpus: 6, gpusPerNode: 4, duration: 1h, endTime: '2030-01-01T00:00:00Z', release: false}",
                null))
        .containsExactlyInAnyOrder(
            "gpus must be a multiple of gpusPerNode",
            "give duration or endTime, not both",
            "a lease needs offerRef, or models for the operator to choose an offer");
    String bound = "{offerRef: {namespace: acme, name: h100}, gpus: 2, release: true}";
    assertThat(
            refusals(
                "gpuleases.gpumarket.io",
                "{offerRef: {namespace: acme, name: other}, gpus: 4, release: false}",
                bound))
        .containsExactlyInAnyOrder(
            "offerRef is immutable",
            "gpus is immutable",
            "a released lease cannot be taken back: create a new one");
    assertThat(refusals("gpuleases.gpumarket.io", bound, bound)).isEmpty();
  }

  @Test
  void jobRules() throws Exception {
    String good =
        "{gpu: {models: [h100-80gb]}, replicas: 2, cancel: false, template: {spec: {containers: [{name: c, image: i}]}}}";
    assertThat(refusals("computejobs.gpumarket.io", good, null)).isEmpty();
    assertThat(
            refusals(
                "computejobs.gpumarket.io",
                "{gpu: {models: [l4]}, replicas: 1, cancel: false, template: {spec: {containers: []}}}",
                null))
        .containsExactly("template.spec.containers needs at least one container");
    String cancelled =
        "{gpu: {models: [h100-80gb]}, replicas: 2, cancel: true, template: {spec: {containers: [{name: c}]}}}";
    assertThat(
            refusals(
                "computejobs.gpumarket.io",
                "{gpu: {models: [h100-80gb]}, replicas: 3, cancel: false, leaseRef: r, template: {spec: {containers: [{name: c}]}}}",
                cancelled))
        .containsExactlyInAnyOrder(
            "replicas is immutable", "a cancelled job cannot be resumed: create a new one");
    assertThat(refusals("computejobs.gpumarket.io", "[a100-40gb]", "[h100-80gb]", "gpu", "models"))
        .containsExactly("gpu.models is immutable");
  }

  @Test
  void nodeRules() throws Exception {
    assertThat(refusals("gpunodes.gpumarket.io", "other", "dc-1", "nodeName"))
        .containsExactly("nodeName is immutable: create a new GpuNode for another Node");
    assertThat(
            refusals(
                "gpunodes.gpumarket.io",
                "{intervalSeconds: 30, graceSeconds: 20}",
                null,
                "heartbeat"))
        .containsExactly("heartbeat.graceSeconds must be longer than heartbeat.intervalSeconds");
    assertThat(
            refusals(
                "gpunodes.gpumarket.io",
                "{intervalSeconds: 10, graceSeconds: 40}",
                null,
                "heartbeat"))
        .isEmpty();
  }
}
