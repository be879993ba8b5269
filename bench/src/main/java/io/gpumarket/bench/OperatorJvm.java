package io.gpumarket.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpumarket.operator.LeanJson;
import io.gpumarket.operator.MarketMetrics;
import io.gpumarket.operator.ReconcileCounts;
import io.gpumarket.operator.TestOperator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;

/**
 * The operator in a JVM of its own, as in its pod: its heap, resident memory and CPU are its own,
 * not shared with the benchmark's workload, listings and pod watch. The heap is capped as the heap
 * target's pod would be ({@code bench.operatorHeap}, 512m), and the JVM exits when it runs out, so
 * that a run says so instead of hanging.
 *
 * <p>The benchmark asks it for figures over its standard input, one command a line; it answers each
 * with a line of JSON on its standard output, after the word {@code answer}. Its logs go to
 * standard error; what the JVM itself prints to standard output is passed on there too.
 */
final class OperatorJvm implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ANSWER = "answer ";

  /**
   * Requests and reconciles so far, the operator's CPU time, and the time its JIT spent compiling
   * (the JVM's own count, summed over its compiler threads).
   */
  record Counts(
      Map<String, Long> requests,
      Map<String, Long> codes,
      Map<String, Long> conflicts,
      long writes,
      Map<String, Long> reconciles,
      long cpuNanos,
      long compileMillis,
      Map<String, Long> nodeStatusWrites,
      Map<String, Long> gcCollections,
      Map<String, Long> gcMillis) {

    /**
     * GpuNode status writes that keep the fleet (uptime histories, readiness, verification), not
     * the jobs: the operator counts them by cause.
     */
    long fleetUpkeep() {
      return nodeStatusWrites.getOrDefault(MarketMetrics.NodeWrite.UPTIME.label(), 0L)
          + nodeStatusWrites.getOrDefault(MarketMetrics.NodeWrite.HEALTH.label(), 0L);
    }
  }

  /**
   * A figure of each of the JVM's collectors, by name: G1's young and mixed pauses are its "G1
   * Young Generation", its full collections its "G1 Old Generation" (Java 17 has no bean for its
   * concurrent cycles, whose threads {@link HostCpu#threadMsPerJob} counts).
   */
  private static Map<String, Long> gc(java.util.function.ToLongFunction<GarbageCollectorMXBean> f) {
    Map<String, Long> out = new java.util.TreeMap<>();
    ManagementFactory.getGarbageCollectorMXBeans()
        .forEach(b -> out.put(b.getName(), f.applyAsLong(b)));
    return out;
  }

  /** Heap in use after a full collection, resident memory, and the heap's largest classes. */
  record Memory(double heapAfterGcMiB, double rssMiB, List<String> largestClasses) {}

  private final Process process;
  private final String heap;
  private final BufferedReader answers;
  private final PrintWriter commands;
  private String lastWords = "";

  private OperatorJvm(Process process, String heap) {
    this.process = process;
    this.heap = heap;
    this.answers =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
  }

  /** The operator's process id. */
  long pid() {
    return process.pid();
  }

  /** Starts the operator against the API server at {@code masterUrl}, or that of a kubeconfig. */
  static OperatorJvm start(String masterUrl, String kubeconfig) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String heap = heap();
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx" + heap,
                "-XX:+ExitOnOutOfMemoryError",
                // As Quarkus runs the operator: JBoss's log manager, which otherwise warns at the
                // first log line that it came too late.
                "-Djava.util.logging.manager=org.jboss.logmanager.LogManager"));
    command.addAll(options());
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), OperatorJvm.class.getName()));
    command.addAll(
        kubeconfig == null ? List.of("--master", masterUrl) : List.of("--kubeconfig", kubeconfig));
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    OperatorJvm jvm = new OperatorJvm(process, heap);
    jvm.ask("started", String.class);
    return jvm;
  }

  /** The operator's maximum heap, {@code -Xmx}'s value: {@code bench.operatorHeap}, or 512m. */
  static String heap() {
    return System.getProperty("bench.operatorHeap", "512m");
  }

  /**
   * The JVM options the operator's image, manifests and chart set besides the heap's size (see
   * {@code operator/src/main/docker/Dockerfile.jvm}).
   */
  static final String IMAGE_JVM_OPTIONS =
      "-XX:+UseG1GC -XX:+UseStringDeduplication -XX:-G1UseAdaptiveIHOP"
          + " -XX:InitiatingHeapOccupancyPercent=70";

  /**
   * Further options of the operator's JVM, {@code bench.operatorJvmOptions}, split at spaces: by
   * default {@link #IMAGE_JVM_OPTIONS}.
   */
  static List<String> options() {
    String options = System.getProperty("bench.operatorJvmOptions", IMAGE_JVM_OPTIONS).strip();
    return options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
  }

  Counts counts() throws IOException {
    return ask("counts", Counts.class);
  }

  Memory memory() throws IOException {
    return ask("memory", Memory.class);
  }

  /** A few of the writes the operator sent, by kind, to replay for the ceiling. */
  Map<String, List<ApiCounter.Sample>> samples() throws IOException {
    return JSON.readValue(ask("samples"), new TypeReference<>() {});
  }

  /** Throws when the operator's JVM has gone, with its exit code and the likeliest reason. */
  void checkAlive() {
    if (!process.isAlive()) {
      throw gone();
    }
  }

  private <T> T ask(String command, Class<T> type) throws IOException {
    return JSON.readValue(ask(command), type);
  }

  // The benchmark's timeline asks from a thread of its own: one question on the pipe at a time.
  private synchronized String ask(String command) throws IOException {
    if (!command.equals("started")) {
      commands.println(command);
    }
    for (String line; (line = answers.readLine()) != null; ) {
      if (line.startsWith(ANSWER)) {
        return line.substring(ANSWER.length());
      }
      // The JVM's own last words ("Terminating due to java.lang.OutOfMemoryError") come here.
      System.err.println(line);
      lastWords = line;
    }
    throw gone();
  }

  private IllegalStateException gone() {
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String code = process.isAlive() ? "still running" : "exit code " + process.exitValue();
    return new IllegalStateException(
        "the operator's JVM stopped answering ("
            + code
            + (lastWords.isEmpty() ? "" : ", last words: " + lastWords)
            + "); it exits when it runs out of its "
            + heap
            + " heap");
  }

  @Override
  public void close() throws InterruptedException {
    commands.close();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  /**
   * JOSDK's pool of reconcile threads, as large, named so that they are told from the JVM's other
   * threads between reconciles too: JOSDK names a thread after the controller it reconciles for
   * while it does and gives the pool's name back after ({@link HostCpu#threadKind}).
   */
  private static java.util.concurrent.ExecutorService reconcileThreads() {
    var count = new java.util.concurrent.atomic.AtomicInteger();
    return java.util.concurrent.Executors.newFixedThreadPool(
        EndToEnd.RECONCILE_THREADS,
        r -> {
          Thread t = new Thread(r, "ReconcilerExecutor-pool-" + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /** The operator's side: {@code --master URL} or {@code --kubeconfig PATH}. */
  public static void main(String... args) throws Exception {
    // The answers own standard output; anything a library prints goes with the logs.
    PrintStream answers = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    Config config =
        args[0].equals("--kubeconfig")
            ? EndToEnd.config(null, args[1])
            : EndToEnd.config(args[1], null);
    ApiCounter counter = new ApiCounter();
    ReconcileCounts reconciles = ReconcileCounts.byKind();
    try (KubernetesClient client =
            new KubernetesClientBuilder()
                .withConfig(config)
                // As Quarkus builds the operator's client (LeanJson.QuarkusClient).
                .withKubernetesSerialization(LeanJson.serialization())
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("bench", counter))
                .build();
        TestOperator operator =
            TestOperator.start(
                client, o -> o.withMetrics(reconciles).withExecutorService(reconcileThreads()))) {
      answers.println(ANSWER + JSON.writeValueAsString("started"));
      BufferedReader commands =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String command; (command = commands.readLine()) != null; ) {
        Object answer =
            switch (command) {
              case "counts" ->
                  new Counts(
                      counter.snapshot(),
                      counter.codes(),
                      counter.conflicts(),
                      counter.writes.sum(),
                      reconciles.snapshot(),
                      ((com.sun.management.OperatingSystemMXBean)
                              ManagementFactory.getOperatingSystemMXBean())
                          .getProcessCpuTime(),
                      ManagementFactory.getCompilationMXBean().getTotalCompilationTime(),
                      operator.metrics().nodeStatusWrites(),
                      gc(GarbageCollectorMXBean::getCollectionCount),
                      gc(GarbageCollectorMXBean::getCollectionTime));
              case "memory" ->
                  new Memory(CoreBench.used() / 1048576.0, EndToEnd.rssMiB(), largestClasses(12));
              case "samples" -> counter.samples;
              default -> throw new IllegalArgumentException("unknown command " + command);
            };
        answers.println(ANSWER + JSON.writeValueAsString(answer));
      }
    }
    System.exit(0);
  }

  /** The first rows of the heap's class histogram (as {@code jcmd GC.class_histogram} prints). */
  private static List<String> largestClasses(int rows) {
    try {
      String histogram =
          (String)
              ManagementFactory.getPlatformMBeanServer()
                  .invoke(
                      new ObjectName("com.sun.management:type=DiagnosticCommand"),
                      "gcClassHistogram",
                      new Object[] {new String[0]},
                      new String[] {String[].class.getName()});
      return Arrays.stream(histogram.split("\n"))
          .map(String::strip)
          .filter(l -> l.matches("^\\d+:.*"))
          .limit(rows)
          .map(l -> l.replaceAll("\\s+", " "))
          .toList();
    } catch (Exception e) {
      return List.of("no class histogram: " + e);
    }
  }
}
