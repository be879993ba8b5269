package io.gpumarket.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged operator ({@code operator/target/quarkus-app/quarkus-run.jar --cluster}) as a
 * subprocess, under the kubeconfig given (a ServiceAccount's, so that a missing permission shows),
 * with its log in {@code e2e/target/<name>.log} and its metrics on a free port.
 */
final class OperatorProcess implements AutoCloseable {

  private static final List<OperatorProcess> STARTED = new ArrayList<>();

  private final Process process;
  private final Path log;
  private final int port;

  private OperatorProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  static OperatorProcess start(
      KubeCluster cluster, Path kubeconfig, Map<String, String> env, String name) {
    Path jar = cluster.root().resolve("operator/target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build the operator module first");
    }
    // The free port may be taken between our probe and the operator's bind; then try another.
    for (int attempt = 1; ; attempt++) {
      OperatorProcess operator = launch(cluster, jar, kubeconfig, env, name, freePort());
      try {
        operator.awaitMetrics(Duration.ofSeconds(180));
        return operator;
      } catch (IllegalStateException e) {
        operator.close();
        if (attempt >= 3 || !operator.text().contains(" in use")) {
          throw e;
        }
      }
    }
  }

  /** Every operator started in this JVM, in order, so a failed test can show their logs. */
  static List<OperatorProcess> started() {
    synchronized (STARTED) {
      return List.copyOf(STARTED);
    }
  }

  private static OperatorProcess launch(
      KubeCluster cluster,
      Path jar,
      Path kubeconfig,
      Map<String, String> env,
      String name,
      int port) {
    Path log = cluster.root().resolve("e2e/target/" + name + ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx384m");
    command.add("-jar");
    command.add(jar.toString());
    command.add("--cluster");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .directory(cluster.root().toFile());
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("GPUMARKET_HTTP_PORT", Integer.toString(port));
    builder.environment().put("GPUMARKET_HEARTBEAT_NAMESPACE", "gpumarket-node-lease");
    // The suite's agents simulate their GPUs.
    builder.environment().put("GPUMARKET_VERIFICATION_ACCEPT_SIMULATED", "true");
    builder.environment().putAll(env);
    try {
      Files.createDirectories(log.getParent());
      OperatorProcess operator = new OperatorProcess(builder.start(), log, port);
      Runtime.getRuntime().addShutdownHook(new Thread(operator::close));
      synchronized (STARTED) {
        STARTED.add(operator);
      }
      return operator;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitMetrics(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "operator exited with " + process.exitValue() + ":\n" + tail(60));
      }
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create(metricsUrl()).toURL().openConnection();
        c.setConnectTimeout(1000);
        if (c.getResponseCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      MarketScenarioTest.sleep(500);
    }
    throw new IllegalStateException("operator's /metrics not up in " + timeout + ":\n" + tail(60));
  }

  int port() {
    return port;
  }

  String metricsUrl() {
    return "http://127.0.0.1:" + port + "/metrics";
  }

  Path log() {
    return log;
  }

  boolean alive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  String text() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  String tail(int lines) {
    List<String> all = text().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /**
   * Lines that say RBAC refused the operator something. A 403 for an exceeded ResourceQuota is not
   * a missing permission and is not counted.
   */
  List<String> forbidden() {
    return text()
        .lines()
        .filter(l -> l.contains("is forbidden: User") || l.contains("cannot ") && l.contains("403"))
        .toList();
  }

  /** Kills the process at once, as a crash would. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
