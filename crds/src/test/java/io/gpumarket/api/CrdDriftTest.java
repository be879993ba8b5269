package io.gpumarket.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.tools.CrdFinisher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CRDs committed under {@code crds/generated/}, {@code manifests/crds/} and the Helm chart's
 * {@code crds/} must be exactly what the build generates from the model. Run with {@code
 * -Dgpumarket.updateCrds=true} to rewrite them after changing the model.
 */
class CrdDriftTest {
  private static final Path GENERATED = Path.of("target/classes/META-INF/fabric8");
  private static final List<Path> COMMITTED =
      List.of(
          Path.of("generated"), Path.of("../manifests/crds"), Path.of("../charts/gpumarket/crds"));

  static List<String> crdFiles() {
    return CrdFinisher.RESOURCES.stream().map(CrdFinisher::crdFileName).toList();
  }

  @ParameterizedTest
  @MethodSource("crdFiles")
  void committedCrdMatchesTheModel(String file) throws IOException {
    String generated = Files.readString(GENERATED.resolve(file));
    for (Path dir : COMMITTED) {
      Path committed = dir.resolve(file);
      if (Boolean.getBoolean("gpumarket.updateCrds")) {
        Files.createDirectories(dir);
        Files.copy(GENERATED.resolve(file), committed, StandardCopyOption.REPLACE_EXISTING);
      }
      assertThat(committed)
          .as(
              "%s drifted from the model: run `mvn -pl crds verify -Dgpumarket.updateCrds=true`"
                  + " and commit the result",
              committed)
          .exists();
      assertThat(Files.readString(committed))
          .as(
              "%s drifted from the model: run `mvn -pl crds verify -Dgpumarket.updateCrds=true`"
                  + " and commit the result",
              committed)
          .isEqualTo(generated);
    }
  }
}
