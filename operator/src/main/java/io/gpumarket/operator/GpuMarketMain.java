package io.gpumarket.operator;

import io.gpumarket.operator.sandbox.MarketBoard;
import io.gpumarket.operator.sandbox.Sandbox;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

  /** What {@code main} takes; README's Quickstart says the same. */
  static final List<CommandLine.Option> OPTIONS =
      List.of(
          new CommandLine.Option(
              "--cluster",
              "",
              "run against the cluster of the kubeconfig, or the pod's (the default when"
                  + " KUBECONFIG is set or in a pod)"),
          new CommandLine.Option("--sandbox", "", "run in the sandbox even so"),
          new CommandLine.Option(
              "--board-seconds", "N", "sandbox: redraw the market board every N seconds (5)"),
          new CommandLine.Option(
              "--jobs-per-minute",
              "N",
              "sandbox: new jobs a minute in the stream, 0 for none (12)"),
          new CommandLine.Option("--seed", "N", "sandbox: the job stream's random seed (1)"),
          new CommandLine.Option(
              "--no-scenario", "", "sandbox: only the examples (no gridcloud, no job stream)"),
          new CommandLine.Option("--no-agents", "", "sandbox: no simulated node agents"),
          new CommandLine.Option("--no-clear", "", "sandbox: append boards instead of redrawing"),
          new CommandLine.Option(
              "--examples", "DIR", "sandbox: the manifests to apply (manifests/examples)"),
          new CommandLine.Option(
              "--node-failure-toleration",
              "DURATION",
              "sandbox: how long a host may be down before its jobs move (PT1M)"));

  public static void main(String... args) {
    CommandLine flags;
    long boardSeconds;
    double jobsPerMinute;
    long seed;
    Duration nodeFailureToleration;
    try {
      flags = CommandLine.parse(args, OPTIONS);
      if (flags.has(CommandLine.HELP.name())) {
        System.out.print(CommandLine.usage(COMMAND, OPTIONS));
        return;
      }
      boardSeconds = flags.number("--board-seconds", 5, 1);
      jobsPerMinute = flags.decimal("--jobs-per-minute", 12, 0);
      seed = flags.number("--seed", 1);
      nodeFailureToleration = flags.duration("--node-failure-toleration", Duration.ofMinutes(1));
    } catch (CommandLine.Refused e) {
      CommandLine.exitRefused(COMMAND, OPTIONS, e);
      return;
    }
    boolean cluster =
        flags.has("--cluster")
            || (!flags.has("--sandbox")
                && (System.getenv("KUBECONFIG") != null
                    || System.getenv("KUBERNETES_SERVICE_HOST") != null));
    if (cluster) {
      Quarkus.run(args);
      return;
    }
    Path examples = Path.of(flags.value("--examples", "manifests/examples"));
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
    System.setProperty("gpumarket.node-failure-toleration", nodeFailureToleration.toString());
    var board =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sandbox-board");
              t.setDaemon(true);
              return t;
            });
    try {
      boolean scenario = !flags.has("--no-scenario");
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
      if (!flags.has("--no-agents")) {
        int agents = sandbox.startAgents("gpumarket-system");
        System.out.printf(
            "sandbox: %d node agents heartbeating, GPUs simulated on the CPU%n", agents);
      }
      if (scenario) {
        if (jobsPerMinute > 0) {
          sandbox.startJobStream(Duration.ofMillis((long) (60_000 / jobsPerMinute)), seed);
          System.out.printf(
              "sandbox: %s new jobs a minute from ml-team and render-team%n",
              flags.value("--jobs-per-minute", "12"));
        }
      }
      boolean terminal = System.console() != null && !flags.has("--no-clear");
      board.scheduleWithFixedDelay(
          () -> {
            try {
              MarketBoard.print(sandbox.client(), System.out, terminal);
            } catch (RuntimeException e) {
              System.err.println("board: " + e.getMessage());
            }
          },
          boardSeconds,
          boardSeconds,
          TimeUnit.SECONDS);
      Quarkus.run(args);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      board.shutdownNow();
      sandbox.close();
    }
  }

  private static final String COMMAND = "java -jar operator/target/quarkus-app/quarkus-run.jar";
}
