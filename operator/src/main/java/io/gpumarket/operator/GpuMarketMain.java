package io.gpumarket.operator;

import io.gpumarket.operator.sandbox.MarketBoard;
import io.gpumarket.operator.sandbox.Sandbox;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Starts the operator. Against a cluster when one is given ({@code --cluster}, {@code KUBECONFIG},
 * or running in a pod); otherwise, or with {@code --sandbox}, in a sandbox with an embedded API
 * server, the example fleet and a stand-in kubelet, printing the market every few seconds.
 */
@QuarkusMain
public final class GpuMarketMain {
  private GpuMarketMain() {}

  public static void main(String... args) {
    List<String> flags = Arrays.asList(args);
    boolean cluster =
        flags.contains("--cluster")
            || (!flags.contains("--sandbox")
                && (System.getenv("KUBECONFIG") != null
                    || System.getenv("KUBERNETES_SERVICE_HOST") != null));
    if (cluster) {
      Quarkus.run(args);
      return;
    }
    Path examples = Path.of(option(flags, "--examples", "manifests/examples"));
    Sandbox sandbox = Sandbox.start();
    System.setProperty("quarkus.kubernetes-client.api-server-url", sandbox.url());
    System.setProperty("quarkus.kubernetes-client.trust-certs", "true");
    System.setProperty("quarkus.kubernetes-client.namespace", "default");
    // Every simulated agent proves on the same CPU as the operator and the API server: allow for
    // it, or a busy machine fails every node's challenge.
    System.setProperty("gpumarket.challenge.overhead", "PT90S");
    // Its agents simulate their GPUs: verify them as if they were there.
    System.setProperty("gpumarket.verification.accept-simulated", "true");
    // A host that died has its jobs moved after a minute rather than five, so it shows.
    System.setProperty(
        "gpumarket.node-failure-toleration", option(flags, "--node-failure-toleration", "PT1M"));
    var board =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sandbox-board");
              t.setDaemon(true);
              return t;
            });
    try {
      boolean scenario = !flags.contains("--no-scenario");
      if (scenario) {
        System.out.printf(
            "sandbox: applied %d objects of provider gridcloud (hosts that flap, die and lie)%n",
            sandbox.applyFleet());
      }
      if (Files.isDirectory(examples)) {
        int n = sandbox.apply(examples);
        System.out.printf(
            "sandbox: API server at %s, applied %d objects from %s%n", sandbox.url(), n, examples);
      } else {
        System.out.printf(
            "sandbox: API server at %s; no %s folder, so no examples applied%n",
            sandbox.url(), examples);
      }
      sandbox.startKubelet();
      if (!flags.contains("--no-agents")) {
        int agents = sandbox.startAgents("gpumarket-system");
        System.out.printf(
            "sandbox: %d node agents heartbeating, GPUs simulated on the CPU%n", agents);
      }
      if (scenario) {
        double jobsPerMinute = Double.parseDouble(option(flags, "--jobs-per-minute", "12"));
        if (jobsPerMinute > 0) {
          sandbox.startJobStream(
              java.time.Duration.ofMillis((long) (60_000 / jobsPerMinute)),
              Long.parseLong(option(flags, "--seed", "1")));
          System.out.printf(
              "sandbox: %s new jobs a minute from ml-team and render-team%n",
              option(flags, "--jobs-per-minute", "12"));
        }
      }
      boolean terminal = System.console() != null && !flags.contains("--no-clear");
      long every = Long.parseLong(option(flags, "--board-seconds", "5"));
      board.scheduleWithFixedDelay(
          () -> {
            try {
              MarketBoard.print(sandbox.client(), System.out, terminal);
            } catch (RuntimeException e) {
              System.err.println("board: " + e.getMessage());
            }
          },
          every,
          every,
          TimeUnit.SECONDS);
      Quarkus.run(args);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      board.shutdownNow();
      sandbox.close();
    }
  }

  private static String option(List<String> flags, String name, String fallback) {
    int i = flags.indexOf(name);
    return i >= 0 && i + 1 < flags.size() ? flags.get(i + 1) : fallback;
  }
}
