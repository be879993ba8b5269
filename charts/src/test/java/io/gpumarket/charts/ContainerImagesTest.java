package io.gpumarket.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfiles of the operator and the agent. No image can be built here; what can be checked is
 * that they run as a numeric non-root user, set what the NVIDIA runtime needs, and that every file
 * they COPY (paths from the repository root, the build context) is produced by {@code mvn package}.
 * The latter runs only when the module has been packaged: in a full {@code mvn verify} this module
 * is built after the operator and the agent.
 */
class ContainerImagesTest {
  static final Path OPERATOR = Chart.REPO.resolve("operator/src/main/docker/Dockerfile.jvm");
  static final Path AGENT = Chart.REPO.resolve("agent/src/main/docker/Dockerfile");

  @Test
  void imagesRunAsANumericNonRootUser() throws IOException {
    for (Path dockerfile : List.of(OPERATOR, AGENT)) {
      assertThat(instructions(dockerfile, "USER"))
          .as("USER of %s", dockerfile)
          .singleElement()
          .satisfies(u -> assertThat(u).matches("[1-9][0-9]*(:[0-9]+)?"));
    }
  }

  @Test
  void operatorImageExposesThePortTheChartProbes() throws IOException {
    assertThat(instructions(OPERATOR, "EXPOSE")).containsExactly("8080");
    assertThat(instructions(AGENT, "EXPOSE")).containsExactly("9400");
  }

  @Test
  void agentImageAsksTheNvidiaRuntimeForComputeAndUtility() throws IOException {
    String env = String.join(" ", instructions(AGENT, "ENV"));

    assertThat(env)
        .contains("NVIDIA_VISIBLE_DEVICES=all")
        .contains("NVIDIA_DRIVER_CAPABILITIES=compute,utility");
  }

  @Test
  void operatorImageCopiesTheQuarkusFastJar() throws IOException {
    assumeTrue(
        Files.isDirectory(Chart.REPO.resolve("operator/target/quarkus-app")),
        "operator not packaged (mvn package)");
    assertCopySourcesExist(OPERATOR);
  }

  @Test
  void agentImageCopiesARunnableJarAndItsClassPath() throws IOException {
    Path lib = Chart.REPO.resolve("agent/target/lib");
    assumeTrue(Files.isDirectory(lib), "agent not packaged (mvn package)");
    assertCopySourcesExist(AGENT);

    Path jar = matches("agent/target/gpumarket-agent-*.jar").get(0);
    try (JarFile j = new JarFile(jar.toFile())) {
      Attributes main = j.getManifest().getMainAttributes();
      assertThat(main.getValue("Main-Class")).isEqualTo("io.gpumarket.agent.AgentMain");
      String[] classPath = main.getValue("Class-Path").split(" ");
      assertThat(classPath).isNotEmpty();
      for (String entry : classPath) {
        assertThat(jar.getParent().resolve(entry)).as("Class-Path entry of %s", jar).exists();
      }
    }
  }

  private static void assertCopySourcesExist(Path dockerfile) throws IOException {
    List<String> copies = instructions(dockerfile, "COPY");
    assertThat(copies).isNotEmpty();
    for (String copy : copies) {
      List<String> words = new ArrayList<>(List.of(copy.split("\\s+")));
      words.removeIf(w -> w.startsWith("--"));
      for (String source : words.subList(0, words.size() - 1)) {
        assertThat(matches(source)).as("%s: COPY source %s", dockerfile, source).hasSize(1);
      }
    }
  }

  /** Files matching a COPY source (a path from the repository root, * in the last part). */
  private static List<Path> matches(String source) throws IOException {
    Path path = Chart.REPO.resolve(source.replaceAll("/$", ""));
    if (!path.getFileName().toString().contains("*")) {
      return Files.exists(path) ? List.of(path) : List.of();
    }
    var glob = FileSystems.getDefault().getPathMatcher("glob:" + path.getFileName());
    try (Stream<Path> files = Files.list(path.getParent())) {
      return files.filter(f -> glob.matches(f.getFileName())).toList();
    }
  }

  /** Arguments of each instruction of this kind, continuation lines joined. */
  static List<String> instructions(Path dockerfile, String kind) throws IOException {
    String text = Files.readString(dockerfile).replaceAll("\\\\\\n\\s*", " ");
    List<String> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      String trimmed = line.trim();
      if (trimmed.regionMatches(true, 0, kind + " ", 0, kind.length() + 1)) {
        out.add(trimmed.substring(kind.length() + 1).trim());
      }
    }
    return out;
  }
}
