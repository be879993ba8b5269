package io.gpumarket.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.gpumarket.operator.CommandLine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures the market against its ceilings and prints the figures: the market core in memory, the
 * quality of its placements against an optimum bound, and the operator end to end through an API
 * server. A program, not a test.
 *
 * <p>{@code --size S|M|L|XS|all} (default {@code S,M}; a comma list works), {@code --seed N},
 * {@code --out FILE} (JSON, default {@code bench-results.json}), {@code --kubeconfig PATH} (run the
 * end-to-end part against that cluster instead of the mock API server), {@code --skip-e2e}, {@code
 * --e2e-sizes S,M} (sizes that also run end to end; default S and M). {@code --compare A.json
 * B.json} prints two runs' figures side by side instead of running.
 */
public final class MarketBench {
  private MarketBench() {}

  public static void main(String... args) throws Exception {
    // The operator's classes bring JBoss's log manager, which complains at its first use when the
    // JVM's logging was not handed to it first (as Quarkus, and the operator's own JVM, do).
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
    }
    Settings settings;
    try {
      CommandLine flags = CommandLine.parse(args, OPTIONS);
      if (flags.has(CommandLine.HELP.name())) {
        System.out.print(CommandLine.usage(COMMAND, OPTIONS));
        System.exit(0);
      }
      if (flags.has("--compare")) {
        List<String> files = flags.values("--compare");
        compare(Path.of(files.get(0)), Path.of(files.get(1)), System.out);
        System.exit(0);
      }
      settings = Settings.of(flags);
    } catch (CommandLine.Refused e) {
      CommandLine.exitRefused(COMMAND, OPTIONS, e);
      return;
    }
    List<Workload.Size> sizes = settings.sizes();
    long seed = settings.seed();
    Path out = settings.out();
    String kubeconfig = settings.kubeconfig();

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("machine", machine());
    result.put("seed", seed);
    Map<String, Object> bySize = new LinkedHashMap<>();
    result.put("sizes", bySize);
    for (Workload.Size size : sizes) {
      Map<String, Object> r = runSize(size, seed, settings.e2e(size), kubeconfig);
      bySize.put(size.name(), r);
      write(out, result); // what is measured survives a later failure
    }
    result.put("loadAverageAtEnd", loadAverage());
    result.put("targets", Targets.evaluate(bySize));
    write(out, result);
    Report.print(result, System.out);
    System.out.println("\nJSON: " + out.toAbsolutePath());
    System.exit(0);
  }

  private static final String COMMAND = "java -jar bench/target/gpumarket-bench.jar";

  /** What {@code main} takes; README's benchmark section says the same. */
  static final List<CommandLine.Option> OPTIONS =
      List.of(
          new CommandLine.Option(
              "--size", "SIZES", "XS, S, M or L, a list such as S,M, or all (default S,M)"),
          new CommandLine.Option("--seed", "N", "the workload generator's seed (20261122)"),
          new CommandLine.Option("--out", "FILE", "the JSON file (bench-results.json)"),
          new CommandLine.Option("--skip-e2e", "", "no end-to-end part"),
          new CommandLine.Option(
              "--e2e-sizes", "SIZES", "the sizes that also run end to end (default S,M)"),
          new CommandLine.Option(
              "--kubeconfig",
              "PATH",
              "run end to end against that cluster instead of the mock API server, one size"
                  + " per fresh server"),
          new CommandLine.Option(
              "--compare", "A.json B.json", "print two runs' figures side by side and exit"));

  /** A run's settings, read from the command line. */
  record Settings(
      List<Workload.Size> sizes,
      long seed,
      Path out,
      String kubeconfig,
      boolean skipE2e,
      List<String> e2eSizes) {
    /** Whether this size runs end to end. */
    boolean e2e(Workload.Size size) {
      return !skipE2e && e2eSizes.contains(size.name());
    }

    /**
     * @throws CommandLine.Refused for an unknown size, or several sizes end to end against one
     *     cluster
     */
    static Settings of(CommandLine flags) {
      Settings s =
          new Settings(
              sizes(flags, "--size", "S,M"),
              flags.number("--seed", 20261122),
              Path.of(flags.value("--out", "bench-results.json")),
              flags.value("--kubeconfig", null),
              flags.has("--skip-e2e"),
              sizes(flags, "--e2e-sizes", "S,M").stream().map(Workload.Size::name).toList());
      if (s.kubeconfig() != null && s.sizes().stream().filter(s::e2e).count() > 1) {
        // The sizes share names (team-*, gn-*, job-*): the second would find the first's objects.
        throw new CommandLine.Refused(
            "--kubeconfig runs one size end to end per API server, since its objects stay there:"
                + " give one size in --e2e-sizes (or --size), and a fresh server for the next");
      }
      return s;
    }

    private static List<Workload.Size> sizes(CommandLine flags, String option, String fallback) {
      String list = flags.value(option, fallback);
      try {
        return (list.equalsIgnoreCase("all") ? List.of("S", "M", "L") : List.of(list.split(",")))
            .stream().map(n -> Workload.Size.of(n.trim())).toList();
      } catch (IllegalArgumentException e) {
        throw new CommandLine.Refused(option + ": " + e.getMessage());
      }
    }
  }

  static Map<String, Object> runSize(Workload.Size size, long seed, boolean e2e, String kubeconfig)
      throws Exception {
    Map<String, Object> r = new LinkedHashMap<>();
    System.err.printf("[%s] size %s: generating%n", Instant.now(), size.name());
    long t = System.nanoTime();
    Workload w = Workload.generate(size, seed);
    r.put("size", Map.of("gpuNodes", size.nodes(), "offers", size.offers(), "jobs", size.jobs()));
    r.put("workload", describe(w, (System.nanoTime() - t) / 1e6));
    r.put("loadAverageAtStart", loadAverage());
    System.err.printf("[%s] size %s: market core%n", Instant.now(), size.name());
    r.put("core", CoreBench.run(w));
    System.err.printf("[%s] size %s: heap%n", Instant.now(), size.name());
    w = null;
    r.put("heap", CoreBench.heap(size, seed));
    w = Workload.generate(size, seed);
    System.err.printf("[%s] size %s: quality%n", Instant.now(), size.name());
    r.put("quality", qualityMap(new Quality(w).run()));
    if (e2e) {
      System.err.printf("[%s] size %s: end to end%n", Instant.now(), size.name());
      try {
        r.put("e2e", EndToEnd.run(w, kubeconfig));
      } catch (IllegalStateException e) {
        // A run that could not finish (the operator out of its heap, a fleet never ready) is a
        // figure too: the other parts' figures and the targets are still written.
        e.printStackTrace();
        r.put("e2e", Map.of("run", false, "error", String.valueOf(e.getMessage())));
      }
    } else {
      r.put("e2e", Map.of("run", false));
    }
    r.put("loadAverageAtEnd", loadAverage());
    return r;
  }

  static Map<String, Object> describe(Workload w, double ms) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("generateMs", ms);
    d.put("healthyGpus", w.healthyGpus());
    d.put("jobGpus", w.jobs.stream().mapToLong(Workload.Job::gpus).sum());
    Map<String, Long> models = new java.util.TreeMap<>();
    w.nodes.forEach(
        n -> models.merge(n.state().model(), (long) n.state().healthyGpus(), Long::sum));
    d.put("gpusByModel", models);
    d.put(
        "edgeNodes", w.nodes.stream().filter(n -> n.state().tier().name().equals("EDGE")).count());
    d.put("providers", w.nodes.stream().map(n -> n.state().provider()).distinct().count());
    d.put("regions", w.nodes.stream().map(n -> n.state().region()).distinct().count());
    d.put("gangJobs", w.jobs.stream().filter(j -> j.replicas() > 1).count());
    d.put("slaJobs", w.jobs.stream().filter(j -> j.request().minUptimeRatio() != null).count());
    d.put("unservableJobs", w.jobs.stream().filter(j -> j.unservable() != null).count());
    return d;
  }

  static Map<String, Object> qualityMap(Quality.Result q) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("batchJobs", q.batchJobs());
    m.put("batchGpus", q.batchGpus());
    m.put("load", Quality.LOAD);
    m.put("maxPlaceableGpus", q.maxPlaceable());
    m.put("boundSeconds", q.boundSeconds());
    List<Map<String, Object>> policies = new ArrayList<>();
    for (Quality.Policy p : q.policies()) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("policy", p.name());
      pm.put("jobsPlaced", p.jobs());
      pm.put("gpusPlaced", p.gpus());
      pm.put("costPerHour", p.cost());
      pm.put("optimumBoundForSameJobs", p.bound());
      pm.put("costOverOptimum", p.costRatio());
      pm.put(
          "gpusOverMaxPlaceable", q.maxPlaceable() == 0 ? 1 : p.gpus() / (double) q.maxPlaceable());
      policies.add(pm);
    }
    m.put("policies", policies);
    m.put("marketUnplacedGpusByCause", q.marketUnplaced());
    m.put("invariants", q.invariants().toMap());
    return m;
  }

  static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("maxHeapMiB", Runtime.getRuntime().maxMemory() / 1048576);
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    m.put("cpu", cpuModel());
    m.put("startedAt", Instant.now().toString());
    m.put("loadAverage", loadAverage());
    return m;
  }

  static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return String.format(
          Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  /**
   * Prints two runs' figures side by side, as written to their JSON files.
   *
   * @throws CommandLine.Refused when a file cannot be read or is not one the benchmark wrote
   */
  static void compare(Path a, Path b, java.io.PrintStream out) {
    Report.compare(run(a), run(b), out);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> run(Path file) {
    Map<String, Object> run;
    try {
      run = new ObjectMapper().readValue(file.toFile(), Map.class);
    } catch (IOException e) {
      throw new CommandLine.Refused("--compare: cannot read " + file + ": " + e.getMessage());
    }
    if (!(run.get("sizes") instanceof Map)
        || !(run.get("machine") instanceof Map)
        || !(run.get("targets") instanceof List)) {
      throw new CommandLine.Refused(
          "--compare: "
              + file
              + " is not a JSON file the benchmark wrote (no sizes, machine or targets)");
    }
    return run;
  }

  static void write(Path out, Map<String, Object> result) throws IOException {
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), result);
  }
}
