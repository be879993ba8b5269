package io.gpumarket.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API server's raw rate for the operator's writes: each kind of write the operator made,
 * replayed on the same server, with as many objects stored, by as many writers at once as the
 * operator has reconcile threads. The ceiling is the jobs per second the server could take if it
 * did nothing but those writes: every kind replayed at once in a job's proportions ({@link #mix}),
 * or else worked out from each kind's rate replayed alone.
 *
 * <p>Creates are replayed from a sample under new names, deletes on copies made beforehand (not
 * timed). Updates are replayed as updates and patches as JSON merge patches that change the object
 * (an annotation, or a status's observedGeneration, or the hard limits the operator's write set in
 * a quota), each writer on an object of its own of the same kind: the operator's own patch, sent
 * again, would change nothing, and an API server does not store a write that changes nothing. A
 * quota's limits rather than an annotation, since a change of its limits is what sets the quota
 * controller to work.
 *
 * <p>Each kind alone is replayed in several rounds and its median rate kept: one slow round (seen
 * once in four runs at size L: pods replayed at 57 writes a second against 321 to 371 in the
 * others) moved the ceiling worked out from the kinds, and the share of it, by a third.
 */
final class Ceiling {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern OBJECT =
      Pattern.compile(
          "^(?<base>.*?/(?:api/v1|apis/[^/]+/[^/]+))(?:/namespaces/(?<ns>[^/]+))?"
              + "/(?<plural>[^/]+)/(?<name>[^/?]+)(?<status>/status)?(?:\\?.*)?$");

  private static final Pattern COLLECTION =
      Pattern.compile(
          "^(?<server>https?://[^/]+).*?/(?:api/v1|apis/[^/]+/[^/]+)/namespaces/(?<ns>[^/]+)/[^/]+$");

  private final HttpClient http;
  private final int writers;
  private final int writes;
  private final int rounds;
  private final int mixJobs;

  /**
   * @param writes how many writes of each kind a round replays
   * @param rounds how many rounds of each kind, of which the median rate is kept
   * @param mixJobs how many jobs' worth of writes the replay of every kind at once sends (none: the
   *     ceiling is worked out from the kinds' rates)
   */
  Ceiling(KubernetesClient admin, int writers, int writes, int rounds, int mixJobs) {
    this.http = admin.getHttpClient();
    this.writers = writers;
    this.writes = writes;
    this.rounds = Math.max(1, rounds);
    this.mixJobs = mixJobs;
  }

  /** What one kind of write achieved: the writes sent, those that succeeded, the seconds. */
  record Rate(int sent, int ok, double seconds, int writers) {
    double perSecond() {
      return ok / Math.max(seconds, 1e-9);
    }
  }

  /**
   * Measures every kind of write in {@code perJob} (writes of that kind per bound job), replaying
   * the last of its {@code sampleWrites}, and returns the figures for the report.
   */
  Map<String, Object> measure(
      Map<String, List<ApiCounter.Sample>> sampleWrites,
      Map<String, Double> perJob,
      double jobsPerSecond)
      throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, Double> rates = new TreeMap<>();
    Map<String, List<Double>> roundRates = new TreeMap<>();
    Map<String, Integer> failed = new TreeMap<>();
    List<String> unmeasured = new ArrayList<>();
    double secondsPerJob = 0;
    Map<String, Double> hostPerJob = new TreeMap<>();
    long replayed = 0;
    double replaySeconds = 0;
    Map<String, List<ApiCounter.Sample>> sampled = new TreeMap<>();
    perJob.keySet().stream()
        .filter(kind -> sampleWrites.get(kind) != null && !sampleWrites.get(kind).isEmpty())
        .forEach(kind -> sampled.put(kind, sampleWrites.get(kind)));
    // First, on a quiet cluster: after the kinds' own replays the controller manager still had
    // their quota patches and pods to work through, which the mix then carried (at size L, 9.4 ms
    // of its CPU per job against 3.5 in the wave).
    Mix mix = null;
    if (mixJobs > 0 && sampled.size() == perJob.size()) {
      System.err.printf("[%s] ceiling: every kind at once%n", Instant.now());
      mix = mix(sampled, perJob);
    }
    System.err.printf("[%s] ceiling: each kind alone%n", Instant.now());
    for (var e : perJob.entrySet()) {
      List<ApiCounter.Sample> samples = sampled.get(e.getKey());
      if (samples == null) {
        continue;
      }
      ApiCounter.Sample s = samples.get(samples.size() - 1);
      List<Double> perSecond = new ArrayList<>();
      HostCpu.Snapshot hostBefore = HostCpu.take();
      int ok = 0;
      for (int round = 0; round < rounds; round++) {
        Rate rate = replay(s, round);
        if (rate == null || rate.ok() == 0) {
          System.err.printf(
              "raw replay of %s failed: %s %s [%s] %s%n",
              e.getKey(), s.method(), s.uri(), s.contentType(), s.body());
          perSecond.clear();
          break;
        }
        if (rate.ok() < rate.sent()) {
          failed.merge(e.getKey(), rate.sent() - rate.ok(), Integer::sum);
        }
        perSecond.add(rate.perSecond());
        ok += rate.ok();
        replayed += rate.ok();
        replaySeconds += rate.seconds();
      }
      if (perSecond.isEmpty()) {
        rates.put(e.getKey(), Double.NaN);
        unmeasured.add(e.getKey());
        continue;
      }
      double writesPerJob = e.getValue();
      HostCpu.msPerJob(hostBefore, HostCpu.take(), BENCHMARK, ok)
          .forEach((name, ms) -> hostPerJob.merge(name, ms * writesPerJob, Double::sum));
      roundRates.put(e.getKey(), perSecond);
      double median = median(perSecond);
      rates.put(e.getKey(), median);
      secondsPerJob += e.getValue() / median;
    }
    out.put("rawWriters", writers);
    out.put("rawRounds", rounds);
    out.put("rawRatesPerSecondByKind", rates);
    out.put("rawRoundRatesPerSecondByKind", roundRates);
    out.put("rawWritesPerSecond", replayed / Math.max(replaySeconds, 1e-9));
    // Writes the server refused in rounds that were measured: the rate counts only those it took.
    out.put("rawFailedWritesByKind", failed);
    // Left out, a kind would raise the ceiling by what its writes cost: no ceiling instead.
    double byKind = unmeasured.isEmpty() ? 1 / secondsPerJob : Double.NaN;
    out.put("ceilingByKindJobsPerSecond", byKind);
    double ceiling = byKind;
    if (mix != null) {
      out.put("mixJobs", mix.jobs());
      out.put("mixWrites", mix.sent());
      out.put("mixSeconds", mix.seconds());
      out.put("mixFailedWritesByKind", mix.failedByKind());
      // The mix sends every kind's writes: a kind none of whose writes went through in it is
      // unmeasured, whatever its own rounds gave.
      unmeasured.clear();
      unmeasured.addAll(mix.unmeasured());
      ceiling = unmeasured.isEmpty() ? mix.jobsPerSecond() : Double.NaN;
      hostPerJob.clear();
      hostPerJob.putAll(mix.hostCpuMsPerJob());
    }
    out.put("ceilingMethod", mix != null ? "mix" : "by kind");
    out.put("ceilingUnmeasuredKinds", unmeasured);
    out.put("ceilingJobsPerSecond", ceiling);
    out.put("fractionOfCeiling", jobsPerSecond / ceiling);
    // The host's CPU the replay spent per job: what the ceiling counts for a job, to set beside
    // what the wave spent (hostCpuMsPerJob); from the mix, or else each kind's per write times its
    // writes per job. The replaying client is the benchmark's JVM.
    Map<String, Double> sorted = new LinkedHashMap<>();
    hostPerJob.entrySet().stream()
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    out.put("ceilingHostCpuMsPerJob", sorted);
    return out;
  }

  /**
   * What the replay of every kind at once came to.
   *
   * @param failedByKind writes of a kind the server refused
   * @param unmeasured kinds none of whose writes went through
   */
  record Mix(
      int jobs,
      int sent,
      int ok,
      double seconds,
      Map<String, Integer> failedByKind,
      List<String> unmeasured,
      Map<String, Double> hostCpuMsPerJob) {
    /** The jobs' worth of writes that went through, a second. */
    double jobsPerSecond() {
      return (double) ok / sent * jobs / Math.max(seconds, 1e-9);
    }
  }

  /**
   * Replays every kind at once: {@link #mixJobs} jobs' worth of writes in the proportions of a
   * job's, in an order shuffled once, each writer taking the next write as it comes free. This is
   * the API server's raw rate for the wave's mix of writes. Replayed a kind at a time, in rounds of
   * a second or less, each kind's rate also carried what the kind before left the controller
   * manager and the server's collector to do, and one kind's rounds differed by up to 3× (size L,
   * 2026-12-07); several seconds of the mix hold all of that, as the wave did.
   *
   * <p>Creates take turns among the kind's samples, as the wave's went to many tenants: in one
   * namespace, each pod created would have the controller manager count a namespace of ever more
   * pods for its quota (at size L, 8.3 ms of its CPU per job in the mix against 5.3 in the wave).
   *
   * @param samples each kind's last writes, newest last
   * @return null if a kind cannot be replayed so (a delete, or an update with nothing to update)
   */
  private Mix mix(Map<String, List<ApiCounter.Sample>> samples, Map<String, Double> perJob)
      throws Exception {
    List<String> kinds = new ArrayList<>(samples.keySet());
    List<MixWrite> byKind = new ArrayList<>();
    List<Updater> allUpdaters = new ArrayList<>();
    List<String> namespaces = new ArrayList<>();
    Set<String> taken = new HashSet<>();
    for (String kind : kinds) {
      List<ApiCounter.Sample> kept = samples.get(kind);
      ApiCounter.Sample s = kept.get(kept.size() - 1);
      switch (s.method()) {
        case "POST" -> {
          // Named apart from the timed ones, for a server that stores what it was to check only.
          byKind.add(
              (i, dryRun) -> create(kept.get(i % kept.size()), dryRun ? "dry" : "mix", i, dryRun));
          for (ApiCounter.Sample each : kept) {
            namespaceOf(each).filter(ns -> !namespaces.contains(ns)).ifPresent(namespaces::add);
          }
        }
        case "PUT", "PATCH" -> {
          // Spread over many objects, as the wave's were: a few quotas written many times over
          // would have their usage recounted and contended far more often than any was.
          List<Updater> updaters = updaters(s, taken, MIX_OBJECTS, true);
          if (updaters.isEmpty()) {
            return null;
          }
          allUpdaters.addAll(updaters);
          byKind.add((i, dryRun) -> updaters.get(i % updaters.size()).send(dryRun));
        }
        default -> {
          return null;
        }
      }
    }
    List<Integer> order = new ArrayList<>();
    int[] sent = new int[kinds.size()];
    for (int k = 0; k < kinds.size(); k++) {
      sent[k] = (int) Math.max(1, Math.round(mixJobs * perJob.get(kinds.get(k))));
      order.addAll(Collections.nCopies(sent[k], k));
    }
    Collections.shuffle(order, new Random(order.size()));
    AtomicInteger[] succeeded = counters(kinds.size());
    List<Integer> warmup = order.subList(0, Math.max(1, order.size() / 2));
    HostCpu.Snapshot[] around = new HostCpu.Snapshot[2];
    Rate rate =
        withRoom(
            namespaces,
            () -> {
              // The replaying client's code is cold here (the mix comes first), and its JIT
              // compiling in the timed writes would count against the ceiling (at size L, 9 to 13
              // ms of the benchmark's CPU per job, against 5 to 7 when the kinds' rounds had run
              // before). Writes the server checks and does not store warm it, leaving the
              // controller manager nothing to do.
              Rate warmed =
                  run(warmup.size(), mixWork(warmup, byKind, counters(kinds.size()), true));
              if (warmed.ok() < warmed.sent()) {
                System.err.printf(
                    "mix warm-up: %d of %d writes refused%n",
                    warmed.sent() - warmed.ok(), warmed.sent());
              }
              for (Updater u : allUpdaters) {
                u.refresh();
              }
              Thread.sleep(WARMED_WITHIN.toMillis());
              around[0] = HostCpu.take();
              Rate r = run(order.size(), mixWork(order, byKind, succeeded, false));
              around[1] = HostCpu.take();
              return r;
            });
    Map<String, Double> host = HostCpu.msPerJob(around[0], around[1], BENCHMARK, mixJobs);
    Map<String, Integer> failed = new TreeMap<>();
    List<String> unmeasured = new ArrayList<>();
    for (int k = 0; k < kinds.size(); k++) {
      if (succeeded[k].get() < sent[k]) {
        failed.put(kinds.get(k), sent[k] - succeeded[k].get());
      }
      if (succeeded[k].get() == 0) {
        unmeasured.add(kinds.get(k));
      }
    }
    return new Mix(mixJobs, rate.sent(), rate.ok(), rate.seconds(), failed, unmeasured, host);
  }

  /** One kind's i-th write of the mix; true if it succeeded. */
  private interface MixWrite {
    boolean send(int i, boolean dryRun) throws Exception;
  }

  /**
   * The writers' work for writes of the kinds in {@code order}, each writer taking the next as it
   * comes free; with {@code dryRun} the server checks each and stores none.
   *
   * @param succeeded where the writes of each kind that succeeded are counted
   */
  private List<Callable<Integer>> mixWork(
      List<Integer> order, List<MixWrite> byKind, AtomicInteger[] succeeded, boolean dryRun) {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger[] numbered = counters(byKind.size());
    List<Callable<Integer>> work = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      work.add(
          () -> {
            int ok = 0;
            for (int at = next.getAndIncrement(); at < order.size(); at = next.getAndIncrement()) {
              int k = order.get(at);
              if (byKind.get(k).send(numbered[k].getAndIncrement(), dryRun)) {
                succeeded[k].incrementAndGet();
                ok++;
              }
            }
            return ok;
          });
    }
    return work;
  }

  /** One counter at zero for each of {@code n} kinds. */
  private static AtomicInteger[] counters(int n) {
    AtomicInteger[] counters = new AtomicInteger[n];
    Arrays.setAll(counters, k -> new AtomicInteger());
    return counters;
  }

  /** How long the client's JIT compiling is given to finish after the warm-up, before timing. */
  private static final Duration WARMED_WITHIN = Duration.ofSeconds(2);

  private static final Map<Long, String> BENCHMARK = Map.ofEntries(HostCpu.THIS_PROCESS);

  /** The middle value, or the mean of the two middle ones. */
  static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** Replays one kind of write once; the round names the objects a create or delete makes. */
  private Rate replay(ApiCounter.Sample s, int round) throws Exception {
    return switch (s.method()) {
      case "POST" -> creates(s, round);
      case "PUT", "PATCH" -> updates(s);
      case "DELETE" -> deletes(s, round);
      default -> null;
    };
  }

  private Rate creates(ApiCounter.Sample s, int round) throws Exception {
    return withRoom(namespaceOf(s).stream().toList(), () -> create(s, round));
  }

  /** The namespace a create goes into, as the address of its quotas' collection's parent. */
  private static Optional<String> namespaceOf(ApiCounter.Sample s) {
    Matcher m = COLLECTION.matcher(s.uri());
    return m.matches() && s.method().equals("POST")
        ? Optional.of(m.group("server") + "/api/v1/namespaces/" + m.group("ns"))
        : Optional.empty();
  }

  private Rate create(ApiCounter.Sample s, int round) throws Exception {
    return run(writes, spread(writes, i -> create(s, Integer.toString(round), i, false)));
  }

  /**
   * Creates the i-th copy of the sample, named after it, the {@code tag} and i; with {@code dryRun}
   * the server checks it and does not store it.
   */
  private boolean create(ApiCounter.Sample s, String tag, int i, boolean dryRun) throws Exception {
    ObjectNode body = (ObjectNode) JSON.readTree(s.body());
    ObjectNode meta = (ObjectNode) body.get("metadata");
    String name = meta.has("name") ? meta.get("name").asText() : "raw";
    meta.put("name", shorten(name) + "-raw-" + tag + "-" + i);
    meta.remove("resourceVersion");
    meta.remove("uid");
    meta.remove("generateName");
    return send("POST", dryRun ? dryRun(s.uri()) : s.uri(), s.contentType(), body.toString())
        .isSuccessful();
  }

  /** The address with the query that has the server check a write and not store it. */
  static String dryRun(String uri) {
    return uri + (uri.contains("?") ? "&" : "?") + "dryRun=All";
  }

  /**
   * Runs a replay of creates in a namespace whose ResourceQuotas have their limits raised for it
   * and put back after: each create still goes through the quota's admission, as the operator's did
   * (on a real API server that updates the quota's usage), but the replay is not refused for the
   * quota the operator's own objects filled.
   */
  private <T> T withRoom(Collection<String> namespaces, Callable<T> replay) throws Exception {
    Map<String, ObjectNode> limits = new LinkedHashMap<>();
    for (String namespace : namespaces) {
      String quotas = namespace + "/resourcequotas";
      for (JsonNode quota : JSON.readTree(send("GET", quotas, null, null).body()).path("items")) {
        String self = quotas + "/" + quota.path("metadata").path("name").asText();
        limits.put(self, quota.path("spec").path("hard").deepCopy());
        setHard(self, null);
      }
    }
    for (String quota : limits.keySet()) {
      awaitEnforced(quota, ENFORCED_WITHIN);
    }
    try {
      return replay.call();
    } finally {
      for (var e : limits.entrySet()) {
        setHard(e.getKey(), e.getValue());
      }
    }
  }

  /**
   * Waits until a quota's {@code status.hard} shows its {@code spec.hard}: the quota admission
   * enforces the status, which the controller manager copies from the spec a moment after it
   * changes, so creates sent at once were refused for the limits the operator's objects filled (a
   * whole round of the pod replay once, at size L, and the pods fell out of the ceiling). A quota
   * with no status (a server with no quota controller, such as the mock) is not waited for; one
   * still behind after {@code within} is reported and the replay goes on.
   */
  private void awaitEnforced(String quota, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      JsonNode current = JSON.readTree(send("GET", quota, null, null).body());
      JsonNode enforced = current.path("status").path("hard");
      if (enforced.isMissingNode() || enforced.equals(current.path("spec").path("hard"))) {
        return;
      }
      if (System.nanoTime() > deadline) {
        System.err.printf("quota %s still enforces %s after %s%n", quota, enforced, within);
        return;
      }
      Thread.sleep(50);
    }
  }

  private static final Duration ENFORCED_WITHIN = Duration.ofSeconds(60);

  /** How many objects of each kind the mix's updates take turns on, at most. */
  private static final int MIX_OBJECTS = 64;

  /** Sets a quota's {@code spec.hard} to {@code limits}, or with null every limit far above use. */
  private void setHard(String quota, ObjectNode limits) throws Exception {
    for (int attempt = 0; attempt < 5; attempt++) {
      ObjectNode current = (ObjectNode) JSON.readTree(send("GET", quota, null, null).body());
      ObjectNode hard = current.withObject("/spec/hard");
      if (limits == null) {
        List<String> keys = new ArrayList<>();
        hard.fieldNames().forEachRemaining(keys::add);
        keys.forEach(k -> hard.put(k, "1000000"));
      } else {
        hard.removeAll().setAll(limits);
      }
      if (send("PUT", quota, "application/json", current.toString()).isSuccessful()) {
        return;
      }
    }
    throw new IllegalStateException("could not set the limits of " + quota + " for the replay");
  }

  /** One write of a replay: the i-th, true if it succeeded. */
  private interface Write {
    boolean send(int i) throws Exception;
  }

  /** Writes 0 to count - 1, dealt round to the writers. */
  private List<Callable<Integer>> spread(int count, Write write) {
    List<Callable<Integer>> work = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int writer = w;
      work.add(
          () -> {
            int ok = 0;
            for (int i = writer; i < count; i += writers) {
              ok += write.send(i) ? 1 : 0;
            }
            return ok;
          });
    }
    return work;
  }

  /** Each writer updates an object of its own, of the kind and subresource the sample wrote. */
  private Rate updates(ApiCounter.Sample s) throws Exception {
    List<Updater> updaters = updaters(s, new HashSet<>(), writers, false);
    List<Callable<Integer>> work = new ArrayList<>();
    int sent = 0;
    for (int writer = 0; writer < updaters.size(); writer++) {
      Updater updater = updaters.get(writer);
      int share = writes / writers + (writer < writes % writers ? 1 : 0);
      sent += share;
      work.add(
          () -> {
            int ok = 0;
            for (int i = 0; i < share; i++) {
              ok += updater.send(false) ? 1 : 0;
            }
            return ok;
          });
    }
    return work.isEmpty() ? null : run(sent, work);
  }

  /**
   * Up to {@code most} objects of the kind and subresource the sample wrote, each with the writes
   * that change it; none if the sample's address names no object.
   *
   * @param taken the objects other replays write at the same time, by address: left to them, since
   *     an update from a copy another write has made stale is refused; the ones taken here are
   *     added
   * @param leaveHalf whether to leave half the objects not taken yet to kinds that come after (in a
   *     small cluster the mix's first kind of a collection would otherwise take them all)
   */
  private List<Updater> updaters(
      ApiCounter.Sample s, Set<String> taken, int most, boolean leaveHalf) throws Exception {
    Matcher m = OBJECT.matcher(s.uri());
    if (!m.matches()) {
      return List.of();
    }
    boolean status = m.group("status") != null;
    boolean patch = s.method().equals("PATCH");
    List<String> limits = status ? List.of() : hardLimits(s.body());
    String collection = m.group("base") + "/" + m.group("plural");
    JsonNode items =
        JSON.readTree(
                send("GET", collection + "?limit=" + (2 * most + taken.size()), null, null).body())
            .path("items");
    Map<String, JsonNode> free = new LinkedHashMap<>();
    for (JsonNode item : items) {
      String self = selfOf(m, item);
      if (!taken.contains(self)) {
        free.put(self, item);
      }
    }
    // A server may ignore the limit.
    int take = Math.min(most, leaveHalf ? Math.max(1, free.size() / 2) : free.size());
    List<Updater> updaters = new ArrayList<>();
    for (var e : free.entrySet()) {
      if (updaters.size() == take) {
        break;
      }
      taken.add(e.getKey());
      updaters.add(new Updater(e.getKey(), status, patch, limits, (ObjectNode) e.getValue()));
    }
    return updaters;
  }

  /** The address of a listed object, from the address the sample wrote to. */
  private static String selfOf(Matcher m, JsonNode item) {
    JsonNode meta = item.path("metadata");
    String ns = meta.path("namespace").asText(null);
    return m.group("base")
        + (ns == null ? "" : "/namespaces/" + ns)
        + "/"
        + m.group("plural")
        + "/"
        + meta.path("name").asText();
  }

  /** The writes that change one object, each from the copy the last one left. */
  private final class Updater {
    private final String self;
    private final boolean status;
    private final boolean patch;
    private final List<String> limits;
    private ObjectNode current;

    /** Writes sent so far: each changes what the one before set, never sets it again. */
    private int sent;

    Updater(String self, boolean status, boolean patch, List<String> limits, ObjectNode current) {
      this.self = self;
      this.status = status;
      this.patch = patch;
      this.limits = limits;
      this.current = current;
    }

    /**
     * The next write; true if it succeeded. One with {@code dryRun} the server does not store: the
     * next write changes the same copy.
     */
    synchronized boolean send(boolean dryRun) throws Exception {
      ObjectNode change = change(current, status, limits, sent);
      String address = self + (status ? "/status" : "");
      String target = dryRun ? dryRun(address) : address;
      HttpResponse<String> r =
          patch
              ? Ceiling.this.send(
                  "PATCH", target, "application/merge-patch+json", change.toString())
              : Ceiling.this.send(
                  "PUT",
                  target,
                  "application/json",
                  JSON.readerForUpdating(current).readValue(change).toString());
      ObjectNode after = r.isSuccessful() ? (ObjectNode) JSON.readTree(r.body()) : read();
      if (!dryRun) {
        current = after;
        sent++;
      }
      return r.isSuccessful();
    }

    /**
     * Reads the object again: a server that stored a write sent to be checked only (one that
     * ignores dryRun) would refuse the next update from the copy before it.
     */
    synchronized void refresh() throws Exception {
      current = read();
    }

    private ObjectNode read() throws Exception {
      return (ObjectNode) JSON.readTree(Ceiling.this.send("GET", self, null, null).body());
    }
  }

  /**
   * The hard limits a write set in a spec (a ResourceQuota's, as the operator sets the GPUs of a
   * tenant's leases), from its body as a merge patch, a JSON patch or a whole object; empty if it
   * set none.
   */
  static List<String> hardLimits(String body) {
    List<String> keys = new ArrayList<>();
    try {
      JsonNode patch = JSON.readTree(body == null ? "" : body);
      if (patch != null && patch.isArray()) {
        for (JsonNode op : patch) {
          String path = op.path("path").asText("");
          if (path.startsWith("/spec/hard/")) {
            keys.add(path.substring("/spec/hard/".length()).replace("~1", "/").replace("~0", "~"));
          }
        }
      } else if (patch != null) {
        patch.path("spec").path("hard").fieldNames().forEachRemaining(keys::add);
      }
    } catch (java.io.IOException e) {
      return List.of();
    }
    return keys;
  }

  /**
   * The i-th write's change, as a JSON merge patch: the limits the operator's write set, between
   * two values far above any use (the quota controller then recomputes the quota's status, as it
   * did after each of the operator's writes, where a change of an annotation alone would leave it
   * idle); else the status's observedGeneration; else an annotation. A patch is replayed as this
   * patch, which the API server applies to the object it reads; an update as the whole object with
   * it applied.
   */
  static ObjectNode change(JsonNode object, boolean status, List<String> limits, int i) {
    ObjectNode change = JSON.createObjectNode();
    if (!limits.isEmpty()) {
      ObjectNode hard = change.putObject("spec").putObject("hard");
      limits.forEach(key -> hard.put(key, Integer.toString(1_000_000 + i % 2)));
    } else if (status) {
      long generation = object.path("metadata").path("generation").asLong(1);
      change.putObject("status").put("observedGeneration", generation + (i + 1) % 2);
    } else {
      change.putObject("metadata").putObject("annotations").put(RAW, Integer.toString(i));
    }
    return change;
  }

  /** The annotation an update changes where it changes nothing else. */
  private static final String RAW = "bench.gpumarket.io/raw";

  private Rate deletes(ApiCounter.Sample s, int round) throws Exception {
    String current = send("GET", s.uri(), null, null).body();
    String collection = s.uri().substring(0, s.uri().lastIndexOf('/'));
    List<String> copies = new ArrayList<>();
    for (int i = 0; i < writes && current != null; i++) {
      ObjectNode body = (ObjectNode) JSON.readTree(current);
      ObjectNode meta = (ObjectNode) body.get("metadata");
      String copy = shorten(meta.get("name").asText()) + "-raw-del-" + round + "-" + i;
      meta.put("name", copy);
      meta.remove("resourceVersion");
      meta.remove("uid");
      meta.remove("finalizers");
      if (send("POST", collection, "application/json", body.toString()).isSuccessful()) {
        copies.add(collection + "/" + copy);
      }
    }
    return run(
        copies.size(),
        spread(copies.size(), i -> send("DELETE", copies.get(i), null, null).isSuccessful()));
  }

  /** Runs the writers at once, {@code sent} writes in all, timed from the first to the last. */
  private Rate run(int sent, List<Callable<Integer>> work) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(work.size());
    try {
      long start = System.nanoTime();
      int ok = 0;
      for (Future<Integer> f : pool.invokeAll(work)) {
        ok += f.get();
      }
      return new Rate(sent, ok, (System.nanoTime() - start) / 1e9, work.size());
    } finally {
      pool.shutdownNow();
    }
  }

  private static String shorten(String name) {
    return name.length() > 40 ? name.substring(0, 40) : name;
  }

  private HttpResponse<String> send(String method, String uri, String contentType, String body)
      throws Exception {
    HttpRequest.Builder b = http.newHttpRequestBuilder().uri(uri);
    if (body != null) {
      b.method(method, contentType == null ? "application/json" : contentType, body);
    } else if (!method.equals("GET")) {
      b.method(method, "application/json", "");
    }
    return http.sendAsync(b.build(), String.class).get(60, TimeUnit.SECONDS);
  }
}
