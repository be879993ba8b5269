package io.gpumarket.charts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus' promtool, from Debian's "prometheus" package. Installed on first use when missing and
 * this build runs as root (as on CI); otherwise the test fails and says how to install it.
 */
final class Promtool {
  private static final Path PROMTOOL = Path.of("/usr/bin/promtool");

  private Promtool() {}

  record Result(int exitCode, String output) {}

  static synchronized Path ensureInstalled() {
    if (Files.isExecutable(PROMTOOL)) {
      return PROMTOOL;
    }
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new AssertionError(
          PROMTOOL
              + " is missing: install Debian's prometheus package"
              + " (sudo apt-get install -y prometheus), which brings promtool");
    }
    StringBuilder log = new StringBuilder();
    Result install = aptGet(log, "install", "-y", "--no-install-recommends", "prometheus");
    if (install.exitCode != 0) {
      aptGet(log, "update");
      aptGet(log, "install", "-y", "--no-install-recommends", "prometheus");
    }
    if (!Files.isExecutable(PROMTOOL)) {
      throw new AssertionError(
          "could not install promtool with apt-get install prometheus:\n" + log);
    }
    return PROMTOOL;
  }

  static Result run(Path workDir, String... args) {
    List<String> command = new ArrayList<>();
    command.add(ensureInstalled().toString());
    command.addAll(List.of(args));
    return exec(workDir, command, 120);
  }

  private static Result aptGet(StringBuilder log, String... args) {
    // Wait for a dpkg lock held by another install rather than fail at once.
    List<String> command =
        new ArrayList<>(List.of("apt-get", "-q", "-o", "DPkg::Lock::Timeout=300"));
    command.addAll(List.of(args));
    Result r = exec(Path.of("/"), command, 600);
    log.append("$ ").append(String.join(" ", command)).append('\n').append(r.output);
    return r;
  }

  private static Result exec(Path workDir, List<String> command, long timeoutSeconds) {
    try {
      Path out = Files.createTempFile("promtool-", ".log");
      try {
        ProcessBuilder pb =
            new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(command + " ran longer than " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new AssertionError("could not run " + command + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
