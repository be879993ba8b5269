package io.gpumarket.bench;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.market.Market;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import io.gpumarket.operator.Labels;
import io.gpumarket.operator.MarketView;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The operator end to end through an API server: from jobs created to pods created. The API server
 * is fabric8's mock in a child process, or the cluster of a kubeconfig. The operator runs in a JVM
 * of its own ({@link OperatorJvm}), wired as its tests wire it, with its requests counted on its
 * own client.
 *
 * <p>The jobs are the workload's first jobs up to {@link Quality#LOAD} of the fleet's GPUs, all
 * created at once, after {@link #WARMUP_WAVES} waves of the same jobs under other names have been
 * bound and deleted. No node agent runs, so hosts have no uptime history and are not verified: the
 * jobs' uptime and verification constraints are dropped here (the market core parts keep them).
 */
final class EndToEnd {
  static final long TIMEOUT_MS = Long.getLong("bench.e2eTimeoutSeconds", 900) * 1000;

  /**
   * Waves of the same jobs under other names that the operator binds, and the benchmark then
   * deletes, before the counted one ({@code bench.warmupWaves}, default 1): a run of a minute or
   * two is otherwise a fresh JVM's first work, and its JIT's compiling was a quarter to two fifths
   * of the operator's CPU at M. An operator's pod runs for days; the counted wave measures that
   * one, and each warm-up wave's own figures say what a cold start costs.
   */
  static final int WARMUP_WAVES = Integer.getInteger("bench.warmupWaves", 1);

  /** How often a wave's {@link Timeline} takes a row. */
  static final long TIMELINE_PERIOD_MS = 5_000;

  /** The operator's reconcile threads (its default), and so the ceiling's writers. */
  static final int RECONCILE_THREADS = 8;

  private EndToEnd() {}

  static Map<String, Object> run(Workload w, String kubeconfig) throws Exception {
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
    Map<String, Object> out = new LinkedHashMap<>();
    Process server = null;
    String masterUrl = null;
    if (kubeconfig == null) {
      server = startMock();
      String url = new BufferedReader(new InputStreamReader(server.getInputStream())).readLine();
      if (url == null || !url.startsWith("url ")) {
        throw new IllegalStateException("the mock API server did not start: " + url);
      }
      masterUrl = url.substring(4);
      out.put("apiServer", "fabric8 mock (CRUD, strict), own process");
    }
    Config config = config(masterUrl, kubeconfig);
    if (kubeconfig != null) {
      out.put("apiServer", "kubeconfig " + kubeconfig + " (" + config.getMasterUrl() + ")");
    }
    out.put(
        "operatorJvm",
        String.join(
                " ",
                "own process, -Xmx" + OperatorJvm.heap(),
                String.join(" ", OperatorJvm.options()))
            .strip());
    try (KubernetesClient admin = new KubernetesClientBuilder().withConfig(config).build()) {
      io.gpumarket.operator.sandbox.Sandbox.installCrds(admin);
      long t0 = System.nanoTime();
      createFleet(admin, w);
      out.put("fleetSetupSeconds", (System.nanoTime() - t0) / 1e9);
      List<Workload.Job> jobs = batch(w);
      Map<String, Workload.Job> byName = new HashMap<>();
      jobs.forEach(j -> byName.put(j.name(), j));
      Map<String, Long> created = new ConcurrentHashMap<>();
      Map<String, Long> bound = new ConcurrentHashMap<>();
      Map<String, Integer> podsSeen = new ConcurrentHashMap<>();
      SharedIndexInformer<Pod> pods =
          admin
              .pods()
              .inAnyNamespace()
              .withLabel(Labels.MANAGED_BY, Labels.MANAGER)
              .inform(
                  new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                      String job = pod.getMetadata().getLabels().get(Labels.JOB);
                      Workload.Job j = byName.get(job);
                      if (j != null && podsSeen.merge(job, 1, Integer::sum) == j.replicas()) {
                        bound.putIfAbsent(job, System.nanoTime());
                      }
                    }

                    @Override
                    public void onUpdate(Pod oldPod, Pod newPod) {}

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {}
                  });

      OperatorJvm operator = OperatorJvm.start(masterUrl, kubeconfig);
      Map<String, List<ApiCounter.Sample>> samples = Map.of();
      try {
        awaitFleetReady(admin, operator, w);
        // A large fleet is never quiet: each GpuNode's uptime history is written every five
        // minutes (5,000 nodes: about 17 writes a second). Its rate is measured here and left out
        // of the ceiling, but a fleet just created falls quiet before its first uptime writes,
        // and those of an L run then count among the run's GpuNode status writes.
        Idle idle = awaitQuiet(operator, 3_000, 120_000, 30_000);
        List<Map<String, Object>> warmups = new ArrayList<>();
        for (int n = 1; n <= WARMUP_WAVES; n++) {
          System.err.printf("[%s] end to end: warm-up wave %d%n", Instant.now(), n);
          List<Workload.Job> warm = renamed(jobs, "warmup" + n + "-");
          warm.forEach(j -> byName.put(j.name(), j));
          Map<String, Object> figures = wave(admin, operator, warm, created, bound, idle);
          long cleared = System.nanoTime();
          clear(admin, operator, warm);
          figures.put("clearSeconds", (System.nanoTime() - cleared) / 1e9);
          warmups.add(figures);
          idle = awaitQuiet(operator, 3_000, 120_000, 30_000);
        }
        out.put("warmupWaves", warmups);
        double idleWritesPerSecond =
            idle.rates().entrySet().stream()
                .filter(e -> ApiCounter.isWrite(e.getKey().substring(0, e.getKey().indexOf(' '))))
                .mapToDouble(Map.Entry::getValue)
                .sum();
        out.put("idleWritesPerSecond", idleWritesPerSecond);
        out.put("idleWritesPerSecondByKind", idle.rates());
        out.put("idleOperatorCores", idle.operatorCores());
        System.err.printf("[%s] end to end: counted wave%n", Instant.now());
        out.putAll(wave(admin, operator, jobs, created, bound, idle));
        OperatorJvm.Memory memory = operator.memory();
        out.put("heapAfterGcMiB", memory.heapAfterGcMiB());
        out.put("rssMiB", memory.rssMiB());
        out.put("largestClassesInHeap", memory.largestClasses());
        samples = operator.samples();
        out.put("invariants", invariants(admin, w, jobs, bound).toMap());
      } finally {
        operator.close();
        pods.close();
      }
      @SuppressWarnings("unchecked")
      Map<String, Double> perJob =
          (Map<String, Double>) out.get("writesPerBoundJobByKindBesidesIdle");
      if (perJob != null && !perJob.isEmpty()) {
        out.putAll(
            new Ceiling(
                    admin,
                    RECONCILE_THREADS,
                    Integer.getInteger("bench.rawWrites", 200),
                    Integer.getInteger("bench.rawRounds", 3),
                    Integer.getInteger("bench.rawMixJobs", 400))
                .measure(samples, perJob, ((Number) out.get("jobsPerSecond")).doubleValue()));
      }
      out.put("run", true);
    } finally {
      if (server != null) {
        server.getOutputStream().close();
        server.destroy();
        server.waitFor(10, TimeUnit.SECONDS);
      }
    }
    return out;
  }

  /** The operator's counts and the host's and the operator's threads' CPU at one moment. */
  private record Snapshot(
      OperatorJvm.Counts counts, HostCpu.Snapshot host, HostCpu.Snapshot threads, long nanos) {
    static Snapshot take(OperatorJvm operator) throws Exception {
      return new Snapshot(
          operator.counts(), HostCpu.take(), HostCpu.threads(operator.pid()), System.nanoTime());
    }
  }

  /**
   * One wave of {@code jobs}, created at once, until it settles: its figures, from the operator's
   * counts before and after it. {@code idle} is the fleet at rest, taken off its writes and CPU.
   */
  private static Map<String, Object> wave(
      KubernetesClient admin,
      OperatorJvm operator,
      List<Workload.Job> jobs,
      Map<String, Long> created,
      Map<String, Long> bound,
      Idle idle)
      throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    Snapshot before = Snapshot.take(operator);
    AtomicInteger createdSoFar = new AtomicInteger();
    Timeline timeline =
        new Timeline(
            operator,
            createdSoFar::get,
            () -> (int) jobs.stream().filter(j -> bound.containsKey(j.name())).count(),
            TIMELINE_PERIOD_MS);
    long createdAll;
    boolean settled;
    try {
      for (Workload.Job j : jobs) {
        admin.resource(e2eJob(j)).create();
        created.put(j.name(), System.nanoTime());
        createdSoFar.incrementAndGet();
      }
      createdAll = System.nanoTime();
      settled = awaitSettled(admin, operator, jobs, bound);
      out.put("timeline", timeline.rows());
    } finally {
      timeline.close();
    }
    Map<String, Long> waveBound = new HashMap<>();
    jobs.forEach(
        j -> {
          Long t = bound.get(j.name());
          if (t != null) {
            waveBound.put(j.name(), t);
          }
        });
    Snapshot after = Snapshot.take(operator);

    int nBound = waveBound.size();
    out.put("jobsCreated", jobs.size());
    out.put("jobsBound", nBound);
    out.put("jobsWaiting", jobs.size() - nBound);
    out.put("gpusAsked", jobs.stream().mapToInt(Workload.Job::gpus).sum());
    out.put(
        "gpusBound",
        jobs.stream()
            .filter(j -> waveBound.containsKey(j.name()))
            .mapToInt(Workload.Job::gpus)
            .sum());
    out.put("settled", settled);
    out.put("createSeconds", (createdAll - before.nanos()) / 1e9);
    bindFigures(out, before.nanos(), created, waveBound);
    double runSeconds = (after.nanos() - before.nanos()) / 1e9;
    // From the first job created until every job had its pods or said why it waits.
    out.put("runSeconds", runSeconds);
    writeFigures(out, before.counts(), after.counts(), idle, runSeconds, nBound);
    Map<String, Long> reconcileCounts =
        ApiCounter.minus(after.counts().reconciles(), before.counts().reconciles());
    out.put("reconciles", reconcileCounts);
    out.put(
        "reconcilesPerJob",
        reconcileCounts.values().stream().mapToLong(Long::longValue).sum() / (double) jobs.size());
    cpuFigures(out, operator.pid(), before, after, idle, nBound);
    return out;
  }

  /** How fast the wave's jobs were bound, and how long each waited from its creation. */
  private static void bindFigures(
      Map<String, Object> out, long start, Map<String, Long> created, Map<String, Long> bound) {
    long lastBind = bound.values().stream().mapToLong(Long::longValue).max().orElse(start);
    double seconds = (lastBind - start) / 1e9;
    out.put("jobsPerSecond", bound.size() / Math.max(seconds, 1e-9));
    out.put("bindSpanSeconds", seconds);
    out.put("bestMinuteJobsPerSecond", bestWindow(bound.values(), 60_000_000_000L));
    out.put("runShorterThanOneMinute", seconds < 60);
    Map<String, Long> waitByJob = new HashMap<>();
    bound.forEach((job, at) -> waitByJob.put(job, at - created.get(job)));
    long[] waits = waitByJob.values().stream().mapToLong(Long::longValue).sorted().toArray();
    out.put("bindP50S", CoreBench.percentile(waits, waits.length, 0.5) / 1e9);
    out.put("bindP90S", CoreBench.percentile(waits, waits.length, 0.9) / 1e9);
    out.put("bindP99S", CoreBench.percentile(waits, waits.length, 0.99) / 1e9);
    // Named, so that a run's tail can be looked into on the cluster it ran on.
    Map<String, Double> slowest = new LinkedHashMap<>();
    waitByJob.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(5)
        .forEach(e -> slowest.put(e.getKey(), e.getValue() / 1e9));
    out.put("slowestBinds", slowest);
  }

  /** The operator's API requests in the wave: writes per bound job by kind, reads, conflicts. */
  private static void writeFigures(
      Map<String, Object> out,
      OperatorJvm.Counts before,
      OperatorJvm.Counts after,
      Idle idle,
      double runSeconds,
      int nBound) {
    Map<String, Long> requests = ApiCounter.minus(after.requests(), before.requests());
    long writes = after.writes() - before.writes();
    Map<String, Long> writesByKind = new TreeMap<>();
    Map<String, Long> readsByKind = new TreeMap<>();
    requests.forEach(
        (k, v) ->
            (ApiCounter.isWrite(k.substring(0, k.indexOf(' '))) ? writesByKind : readsByKind)
                .put(k, v));
    out.put("writes", writes);
    out.put("writesPerBoundJob", writes / (double) Math.max(1, nBound));
    Map<String, Double> perJob = new TreeMap<>();
    writesByKind.forEach((k, v) -> perJob.put(k, v / (double) Math.max(1, nBound)));
    out.put("writesPerBoundJobByKind", perJob);
    // The ceiling is for the writes the jobs bring about. The fleet's own writes are taken off
    // their kinds: at the idle rate measured before the jobs came, and for GpuNode status at
    // least what the operator counted as upkeep during the run (a fleet just created falls
    // quiet before its first uptime writes, minutes on, so the idle sample misses them).
    long upkeep = after.fleetUpkeep() - before.fleetUpkeep();
    out.put("fleetUpkeepWrites", upkeep);
    out.put(
        "fleetUpkeepWritesByCause",
        ApiCounter.minus(after.nodeStatusWrites(), before.nodeStatusWrites()));
    Map<String, Double> perJobBesidesIdle = new TreeMap<>();
    writesByKind.forEach(
        (k, v) -> {
          double fleet = idle.rates().getOrDefault(k, 0.0) * runSeconds;
          if (k.equals(NODE_STATUS_WRITES)) {
            fleet = Math.max(fleet, upkeep);
          }
          perJobBesidesIdle.put(k, Math.max(0, v - fleet) / (double) Math.max(1, nBound));
        });
    out.put("writesPerBoundJobByKindBesidesIdle", perJobBesidesIdle);
    out.put(
        "writesPerBoundJobBesidesIdle",
        perJobBesidesIdle.values().stream().mapToDouble(Double::doubleValue).sum());
    long podCreates = writesByKind.getOrDefault("POST pods", 0L);
    out.put("writesPerBoundJobBesidesPods", (writes - podCreates) / (double) Math.max(1, nBound));
    out.put("readsByKind", readsByKind);
    out.put(
        "conflicts",
        after.codes().getOrDefault("409", 0L) - before.codes().getOrDefault("409", 0L));
    out.put("responseCodes", ApiCounter.minus(after.codes(), before.codes()));
    out.put("conflictsByKind", ApiCounter.minus(after.conflicts(), before.conflicts()));
  }

  /** The CPU the wave cost the operator, by thread kind, and the machine, by process. */
  private static void cpuFigures(
      Map<String, Object> out,
      long operatorPid,
      Snapshot before,
      Snapshot after,
      Idle idle,
      int nBound) {
    double runSeconds = (after.nanos() - before.nanos()) / 1e9;
    long cpu = after.counts().cpuNanos() - before.counts().cpuNanos();
    out.put("cpuMsPerJob", cpu / 1e6 / Math.max(1, nBound));
    out.put("cpuNote", "process CPU of the operator's JVM alone");
    out.put("operatorCores", cpu / 1e9 / runSeconds);
    // The machine's CPU per job and where it went, when the cluster runs on this host: how far a
    // cheaper operator could move the rate, with the rest's share beside it.
    out.put(
        "hostCpuMsPerJob",
        HostCpu.msPerJob(
            before.host(),
            after.host(),
            Map.ofEntries(Map.entry(operatorPid, "operator"), HostCpu.THIS_PROCESS),
            nBound));
    out.put(
        "operatorThreadCpuMsPerJob",
        HostCpu.threadMsPerJob(before.threads(), after.threads(), nBound));
    out.put(
        "gcCollections",
        ApiCounter.minus(after.counts().gcCollections(), before.counts().gcCollections()));
    out.put(
        "gcPauseMillis", ApiCounter.minus(after.counts().gcMillis(), before.counts().gcMillis()));
    // What the operator spent at rest, on the fleet's upkeep, during as long a time, taken off.
    out.put(
        "cpuMsPerJobBesidesIdle",
        Math.max(0, cpu / 1e6 - idle.operatorCores() * runSeconds * 1000) / Math.max(1, nBound));
    // A run of a minute or two is the operator's first work: its JIT compiles through it, as a
    // pod's would only in its first minutes. Elapsed time summed over the compiler threads.
    out.put(
        "jitCompileMsPerJob",
        (after.counts().compileMillis() - before.counts().compileMillis())
            / (double) Math.max(1, nBound));
  }

  /** The same jobs, named with {@code prefix} before their own names. */
  private static List<Workload.Job> renamed(List<Workload.Job> jobs, String prefix) {
    return jobs.stream()
        .map(
            j ->
                new Workload.Job(
                    prefix + j.name(),
                    j.tenant(),
                    j.replicas(),
                    j.perReplica(),
                    j.deadline(),
                    j.request(),
                    j.unservable()))
        .toList();
  }

  /**
   * Deletes a warm-up wave's jobs, then their leases, which the operator keeps as the record of
   * what a deleted job was billed, and waits until their pods are gone and every GPU they held is
   * back on the market: the counted wave then finds the fleet as the first one did.
   */
  private static void clear(KubernetesClient admin, OperatorJvm operator, List<Workload.Job> jobs)
      throws InterruptedException {
    Set<String> tenants = new TreeSet<>();
    jobs.forEach(j -> tenants.add(j.tenant()));
    tenants.forEach(ns -> admin.resources(ComputeJob.class).inNamespace(ns).delete());
    await(
        operator, "the warm-up jobs to be deleted", () -> noneIn(admin, ComputeJob.class, tenants));
    tenants.forEach(ns -> admin.resources(GpuLease.class).inNamespace(ns).delete());
    await(
        operator, "the warm-up leases to be deleted", () -> noneIn(admin, GpuLease.class, tenants));
    await(
        operator,
        "the warm-up pods to be deleted and their GPUs released",
        () ->
            tenants.stream()
                    .allMatch(
                        ns ->
                            admin
                                .pods()
                                .inNamespace(ns)
                                .withLabel(Labels.MANAGED_BY, Labels.MANAGER)
                                .list(ONE)
                                .getItems()
                                .isEmpty())
                && listAll(admin.resources(GpuNode.class)).stream()
                    .allMatch(n -> MarketView.allocations(n).isEmpty()));
  }

  private static final io.fabric8.kubernetes.api.model.ListOptions ONE =
      new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withLimit(1L).build();

  private static <T extends HasMetadata> boolean noneIn(
      KubernetesClient admin, Class<T> kind, Set<String> namespaces) {
    return namespaces.stream()
        .allMatch(ns -> admin.resources(kind).inNamespace(ns).list(ONE).getItems().isEmpty());
  }

  private static void await(OperatorJvm operator, String what, BooleanSupplier done)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    while (!done.getAsBoolean()) {
      operator.checkAlive();
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(1000);
    }
  }

  /** How {@link ApiCounter} names the operator's GpuNode status writes. */
  static final String NODE_STATUS_WRITES = "PUT gpunodes/status";

  /** The mock's URL, or the cluster of a kubeconfig; requests wait up to a minute. */
  static Config config(String masterUrl, String kubeconfig) throws java.io.IOException {
    Config config =
        kubeconfig != null
            ? Config.fromKubeconfig(Files.readString(Path.of(kubeconfig)))
            : new ConfigBuilder()
                .withMasterUrl(masterUrl)
                .withTrustCerts(true)
                .withNamespace("default")
                .build();
    config.setRequestTimeout(60_000);
    return config;
  }

  /** The first jobs of the stream, up to {@link Quality#LOAD} of the healthy GPUs. */
  static List<Workload.Job> batch(Workload w) {
    List<Workload.Job> out = new ArrayList<>();
    long cap = (long) (Quality.LOAD * w.healthyGpus());
    long sum = 0;
    for (Workload.Job j : w.jobs) {
      if (sum + j.gpus() > cap) {
        break;
      }
      sum += j.gpus();
      out.add(j);
    }
    return out;
  }

  private static Process startMock() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-Xmx2g",
            "-cp",
            System.getProperty("java.class.path"),
            MockApiServer.class.getName());
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    return pb.start();
  }

  private static void createFleet(KubernetesClient client, Workload w) throws Exception {
    for (Namespace ns : Kube.namespaces(w)) {
      client.resource(ns).createOr(NonDeletingOperation::update);
    }
    List<HasMetadata> objects = new ArrayList<>();
    for (Workload.Node n : w.nodes) {
      objects.add(Kube.node(n));
      objects.add(Kube.gpuNode(n, false));
    }
    w.offers.forEach(o -> objects.add(Kube.offer(o)));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> done = new ArrayList<>();
    for (HasMetadata o : objects) {
      done.add(pool.submit(() -> client.resource(o).createOr(NonDeletingOperation::update)));
    }
    for (Future<?> f : done) {
      f.get();
    }
    pool.shutdown();
  }

  private static ComputeJob e2eJob(Workload.Job j) {
    ComputeJob job = Kube.job(j);
    job.getSpec().gpu.minUptimeRatio = null;
    job.getSpec().gpu.requireVerified = false;
    return job;
  }

  private static PlacementRequest e2eRequest(Workload.Job j) {
    PlacementRequest r = j.request();
    return new PlacementRequest(
        r.tenant(),
        r.models(),
        r.tier(),
        r.regions(),
        null,
        false,
        r.blocks(),
        r.gpusPerBlock(),
        r.maxPrice(),
        r.currency(),
        r.duration(),
        null);
  }

  private static void awaitFleetReady(KubernetesClient client, OperatorJvm operator, Workload w)
      throws InterruptedException {
    await(
        operator,
        "the operator to take in the fleet",
        () ->
            listAll(client.resources(GpuNode.class)).stream()
                        .filter(n -> n.getStatus() != null && n.getStatus().allocatableGpus != null)
                        .count()
                    == w.nodes.size()
                && listAll(client.resources(GpuOffer.class).inAnyNamespace()).stream()
                        .filter(o -> o.getStatus() != null)
                        .count()
                    == w.offers.size());
  }

  /**
   * The fleet at rest: its requests per second by kind (empty when it fell quiet), and the cores
   * the operator kept busy meanwhile (its upkeep of the fleet: each GpuNode's uptime history is
   * written as its figures move, and hourly).
   */
  record Idle(Map<String, Double> rates, double operatorCores) {
    static final Idle NONE = new Idle(Map.of(), 0);
  }

  /**
   * Waits until the operator has written nothing for {@code quietMs}, at most {@code maxMs}; a
   * fleet that never falls quiet is watched for {@code sampleMs} more.
   */
  private static Idle awaitQuiet(OperatorJvm operator, long quietMs, long maxMs, long sampleMs)
      throws InterruptedException, java.io.IOException {
    long last = -1;
    long since = System.nanoTime();
    long cpuSince = operator.counts().cpuNanos();
    long deadline = since + maxMs * 1_000_000;
    while (true) {
      if (System.nanoTime() > deadline) {
        OperatorJvm.Counts before = operator.counts();
        long start = System.nanoTime();
        Thread.sleep(sampleMs);
        OperatorJvm.Counts after = operator.counts();
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Double> rates = new TreeMap<>();
        ApiCounter.minus(after.requests(), before.requests())
            .forEach((k, v) -> rates.put(k, v / seconds));
        return new Idle(rates, (after.cpuNanos() - before.cpuNanos()) / 1e9 / seconds);
      }
      OperatorJvm.Counts now = operator.counts();
      if (now.writes() != last) {
        last = now.writes();
        since = System.nanoTime();
        cpuSince = now.cpuNanos();
      } else if (System.nanoTime() - since >= quietMs * 1_000_000) {
        return new Idle(
            Map.of(), (now.cpuNanos() - cpuSince) / (double) (System.nanoTime() - since));
      }
      Thread.sleep(200);
    }
  }

  /**
   * Until every job has its pods, or says why it waits and the market, on what the API server holds
   * now, could not place it either. Not until the operator stops writing: once leases run, their
   * cost is refreshed every minute.
   */
  private static boolean awaitSettled(
      KubernetesClient client,
      OperatorJvm operator,
      List<Workload.Job> jobs,
      Map<String, Long> bound)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    int boundBefore = -1;
    while (System.currentTimeMillis() < deadline) {
      Thread.sleep(3000);
      operator.checkAlive();
      // Only once binding has stalled is the whole market listed to judge the waiting jobs: at
      // size L that listing (15,000 objects) every 3 s loaded the API server the run measures.
      int boundNow = bound.size();
      if (boundNow != boundBefore) {
        boundBefore = boundNow;
        continue;
      }
      if (unsettled(client, jobs, bound) == 0) {
        return true;
      }
    }
    return false;
  }

  private static long unsettled(
      KubernetesClient client, List<Workload.Job> jobs, Map<String, Long> bound) {
    List<Workload.Job> waiting = jobs.stream().filter(j -> !bound.containsKey(j.name())).toList();
    if (waiting.isEmpty()) {
      return 0;
    }
    Market market = currentMarket(client);
    Map<String, ComputeJob> stored = new HashMap<>();
    listAll(client.resources(ComputeJob.class).inAnyNamespace())
        .forEach(j -> stored.put(j.getMetadata().getName(), j));
    return waiting.stream()
        .filter(
            j -> {
              ComputeJob job = stored.get(j.name());
              return job == null
                  || job.getStatus() == null
                  || job.getStatus().message == null
                  || market.place(e2eRequest(j)) instanceof Placement;
            })
        .count();
  }

  private static Market currentMarket(KubernetesClient client) {
    List<GpuNode> nodes = listAll(client.resources(GpuNode.class));
    List<GpuOffer> offers = listAll(client.resources(GpuOffer.class).inAnyNamespace());
    Map<String, Namespace> namespaces = new HashMap<>();
    client
        .namespaces()
        .list()
        .getItems()
        .forEach(n -> namespaces.put(n.getMetadata().getName(), n));
    return MarketView.market(nodes, offers, namespaces::get, null);
  }

  /**
   * Every object, listed in pages of 500 and without managedFields: at size L one list of the whole
   * market, beside the operator's caches, did not fit the benchmark's 512 MiB.
   */
  private static <T extends HasMetadata> List<T> listAll(
      io.fabric8.kubernetes.client.dsl.Listable<
              ? extends io.fabric8.kubernetes.api.model.KubernetesResourceList<T>>
          resources) {
    List<T> all = new ArrayList<>();
    String next = null;
    do {
      var page =
          resources.list(
              new io.fabric8.kubernetes.api.model.ListOptionsBuilder()
                  .withLimit(500L)
                  .withContinue(next)
                  .build());
      page.getItems().forEach(o -> o.getMetadata().setManagedFields(null));
      all.addAll(page.getItems());
      next = page.getMetadata().getContinue();
    } while (next != null && !next.isEmpty());
    return all;
  }

  private static double bestWindow(java.util.Collection<Long> times, long window) {
    long[] t = times.stream().mapToLong(Long::longValue).sorted().toArray();
    if (t.length == 0) {
      return 0;
    }
    if (t[t.length - 1] - t[0] < window) {
      return t.length / Math.max((t[t.length - 1] - t[0]) / 1e9, 1e-9);
    }
    int best = 0;
    int j = 0;
    for (int i = 0; i < t.length; i++) {
      while (t[i] - t[j] > window) {
        j++;
      }
      best = Math.max(best, i - j + 1);
    }
    return best / (window / 1e9);
  }

  static double rssMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (Exception e) {
      // not Linux
    }
    return Double.NaN;
  }

  /**
   * From the API server's final state: no node holds more GPUs than it has, every waiting job says
   * why, and none of them could be placed on what is left.
   */
  private static Invariants.Report invariants(
      KubernetesClient client, Workload w, List<Workload.Job> jobs, Map<String, Long> bound) {
    Invariants.Report report = new Invariants.Report();
    List<GpuNode> nodes = listAll(client.resources(GpuNode.class));
    List<GpuOffer> offers = listAll(client.resources(GpuOffer.class).inAnyNamespace());
    Map<String, Namespace> namespaces = new HashMap<>();
    client
        .namespaces()
        .list()
        .getItems()
        .forEach(n -> namespaces.put(n.getMetadata().getName(), n));
    Map<String, Integer> perLease = new HashMap<>();
    for (GpuNode n : nodes) {
      int held = 0;
      for (GpuAllocation a : MarketView.allocations(n)) {
        held += a.gpus;
        perLease.merge(a.leaseUid + "@" + n.getMetadata().getName(), 1, Integer::sum);
      }
      int healthy =
          n.getStatus() == null || n.getStatus().allocatableGpus == null
              ? 0
              : n.getStatus().allocatableGpus;
      if (held > healthy) {
        report.violation(n.getMetadata().getName() + " holds " + held + " of " + healthy + " GPUs");
      }
    }
    perLease.forEach(
        (k, v) -> {
          if (v > 1) {
            report.violation("lease " + k + " holds GPUs of one node twice");
          }
        });
    Market market = MarketView.market(nodes, offers, namespaces::get, null);
    Map<String, ComputeJob> stored = new HashMap<>();
    listAll(client.resources(ComputeJob.class).inAnyNamespace())
        .forEach(j -> stored.put(j.getMetadata().getName(), j));
    for (Workload.Job j : jobs) {
      if (bound.containsKey(j.name())) {
        report.bound++;
        continue;
      }
      report.waiting++;
      ComputeJob job = stored.get(j.name());
      String message = job == null || job.getStatus() == null ? null : job.getStatus().message;
      if (message == null || message.isBlank()) {
        report.violation(j.name() + " waits without a reason");
      } else {
        report.waitingWithReason++;
      }
      if (market.place(e2eRequest(j)) instanceof Placement) {
        report.violation(j.name() + " could be served now but waits: " + message);
      } else if (job != null && job.getStatus() != null) {
        report.reasons.merge(String.valueOf(job.getStatus().phase), 1, Integer::sum);
      }
    }
    return report;
  }
}
