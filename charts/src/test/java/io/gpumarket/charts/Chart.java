package io.gpumarket.charts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The chart under test, rendered with helm-java, and the YAML of what it renders. */
final class Chart {
  /** The repository's root: tests run in charts/. */
  static final Path REPO = Path.of("").toAbsolutePath().getParent();

  static final Path CHART = REPO.resolve("charts/gpumarket");
  static final Path MANIFESTS = REPO.resolve("manifests");

  static final String NAMESPACE = "gpumarket-system";
  static final String RELEASE = "gpumarket";

  static final YAMLMapper YAML = new YAMLMapper();
  static final ObjectMapper JSON = new ObjectMapper();

  private Chart() {}

  static Helm helm() {
    return new Helm(CHART);
  }

  /** Renders the chart as release "gpumarket" in gpumarket-system with these --set values. */
  static Rendered render(Map<String, Object> values) {
    TemplateCommand template = helm().template().withName(RELEASE).withNamespace(NAMESPACE);
    values.forEach(template::set);
    return new Rendered(parse(template.call()));
  }

  /** Renders with a values file of this content. */
  static Rendered renderWithValues(String valuesYaml) {
    try {
      Path file = Files.createTempFile("values-", ".yaml");
      try {
        Files.writeString(file, valuesYaml);
        return new Rendered(
            parse(
                helm()
                    .template()
                    .withName(RELEASE)
                    .withNamespace(NAMESPACE)
                    .withValuesFile(file)
                    .call()));
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Rendered render() {
    return render(Map.of());
  }

  /** The objects of a multi-document YAML stream, empty documents left out. */
  static List<ObjectNode> parse(String yaml) {
    List<ObjectNode> out = new ArrayList<>();
    try (var parser = new YAMLFactory().createParser(yaml)) {
      var docs = YAML.readValues(parser, JsonNode.class);
      while (docs.hasNext()) {
        JsonNode doc = docs.next();
        if (doc instanceof ObjectNode o && !o.isEmpty()) {
          out.add(o);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static List<ObjectNode> parse(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String key(JsonNode o) {
    return o.path("kind").asText() + "/" + o.path("metadata").path("name").asText();
  }

  /** What one render produced. */
  record Rendered(List<ObjectNode> objects) {
    Optional<ObjectNode> find(String kind, String name) {
      return objects.stream().filter(o -> key(o).equals(kind + "/" + name)).findFirst();
    }

    ObjectNode get(String kind, String name) {
      return find(kind, name)
          .orElseThrow(
              () ->
                  new AssertionError(
                      "the chart rendered no "
                          + kind
                          + "/"
                          + name
                          + "; it rendered "
                          + objects.stream().map(Chart::key).toList()));
    }

    List<ObjectNode> ofKind(String kind) {
      return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    List<String> keys() {
      return objects.stream().map(Chart::key).toList();
    }
  }
}
