package io.gpumarket.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Builds {@code src/test/c/fake_nvml.c}, the NVML stand-in, into {@code target/fake-nvml/}. */
final class FakeNvml {
  private FakeNvml() {}

  /** The library's absolute path; skips the calling test where there is no C compiler. */
  static synchronized Path build(String name, String... flags)
      throws IOException, InterruptedException {
    Path source = Path.of("src/test/c/fake_nvml.c").toAbsolutePath();
    Path out = Path.of("target", "fake-nvml", name).toAbsolutePath();
    if (Files.exists(out)
        && Files.getLastModifiedTime(out).compareTo(Files.getLastModifiedTime(source)) > 0) {
      return out;
    }
    Files.createDirectories(out.getParent());
    List<String> command = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-o", out.toString()));
    command.addAll(List.of(flags));
    command.add(source.toString());
    Process cc;
    try {
      cc = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      Assumptions.abort("no C compiler to build the NVML stand-in: " + e.getMessage());
      throw e;
    }
    String log = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(cc.waitFor(60, TimeUnit.SECONDS)).as("cc finishes").isTrue();
    assertThat(cc.exitValue()).as(log).isZero();
    return out;
  }
}
