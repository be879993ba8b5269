package io.gpumarket.bench;

import io.fabric8.kubernetes.api.model.Namespace;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.market.Decision;
import io.gpumarket.market.Market;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.Placement;
import io.gpumarket.operator.MarketSnapshot;
import io.gpumarket.operator.MarketView;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The market core alone, in memory: decisions per second and their latency, the cost of building a
 * market, and the heap each node, offer and job takes.
 */
final class CoreBench {
  /** Leases are given back, oldest first, while more than this share of healthy GPUs is held. */
  static final double UTILIZATION = 0.8;

  private CoreBench() {}

  static Map<String, Object> run(Workload w) {
    Map<String, Object> out = new LinkedHashMap<>();
    List<NodeState> nodes = w.nodeStates();
    var offers = w.offerStates();
    long[] builds = new long[5];
    for (int i = 0; i < builds.length; i++) {
      long t = System.nanoTime();
      new Market(nodes, offers);
      builds[i] = System.nanoTime() - t;
    }
    Arrays.sort(builds);
    out.put("marketBuildMs", builds[builds.length / 2] / 1e6);
    stream(w, null); // warm-up: the same stream once, so the JIT has compiled the market
    Invariants.Report report = new Invariants.Report();
    Map<String, Object> measured = stream(w, report);
    out.putAll(measured);
    out.put("invariants", report.toMap());
    out.putAll(operatorDecision(w));
    return out;
  }

  /**
   * Every job in turn asks the market; a placement holds its GPUs. The oldest leases end while more
   * than {@link #UTILIZATION} of the GPUs are held, so the market stays as full as a busy one.
   */
  private static Map<String, Object> stream(Workload w, Invariants.Report report) {
    Market market = new Market(w.nodeStates(), w.offerStates());
    var threads = ManagementFactory.getThreadMXBean();
    long[] all = new long[w.jobs.size()];
    long[] placedNs = new long[w.jobs.size()];
    long[] refusedNs = new long[w.jobs.size()];
    long[] placedCpu = new long[w.jobs.size()];
    long[] refusedCpu = new long[w.jobs.size()];
    int placed = 0;
    int refused = 0;
    ArrayDeque<Placement> running = new ArrayDeque<>();
    Map<String, Integer> ledger = new HashMap<>();
    long held = 0;
    int healthy = w.healthyGpus(); // a walk over every node: not inside the loop
    long limit = (long) (UTILIZATION * healthy);
    double utilizationSum = 0;
    long cpuStart = threads.getCurrentThreadCpuTime();
    long wallStart = System.nanoTime();
    for (int i = 0; i < w.jobs.size(); i++) {
      Workload.Job job = w.jobs.get(i);
      long c = threads.getCurrentThreadCpuTime();
      long t = System.nanoTime();
      Decision d = market.place(job.request());
      if (d instanceof Placement p) {
        market.hold(p);
      }
      long ns = System.nanoTime() - t;
      long cpuNs = threads.getCurrentThreadCpuTime() - c;
      all[i] = ns;
      if (d instanceof Placement p) {
        placedCpu[placed] = cpuNs;
        placedNs[placed++] = ns;
        running.add(p);
        held += job.gpus();
        if (report != null) {
          p.gpusByNode().forEach((n, g) -> ledger.merge(n, g, Integer::sum));
        }
      } else {
        refusedCpu[refused] = cpuNs;
        refusedNs[refused++] = ns;
      }
      while (held > limit && !running.isEmpty()) {
        Placement p = running.poll();
        market.release(p);
        held -= (long) p.blockNodes().size() * p.gpusPerBlock();
        if (report != null) {
          p.gpusByNode().forEach((n, g) -> ledger.merge(n, -g, Integer::sum));
        }
      }
      utilizationSum += (double) held / healthy;
    }
    long cpu = threads.getCurrentThreadCpuTime() - cpuStart;
    long wall = System.nanoTime() - wallStart;
    Map<String, Object> out = new LinkedHashMap<>();
    if (report != null) {
      for (NodeState n : w.nodeStates()) {
        int mine = ledger.getOrDefault(n.name(), 0);
        int theirs = market.node(n.name()).heldGpus();
        if (mine > n.healthyGpus() || theirs != mine) {
          report.violation(
              n.name() + ": held " + theirs + " (ledger " + mine + ") of " + n.healthyGpus());
        }
      }
      report.bound = placed;
      report.waiting = refused;
    }
    long total = Arrays.stream(all).sum();
    out.put("decisions", all.length);
    out.put("placements", placed);
    out.put("refusals", refused);
    out.put("decisionsPerSecond", all.length / (total / 1e9));
    // On a busy machine the thread waits for a core; CPU time says what the decisions cost.
    out.put("streamCpuMs", cpu / 1e6);
    out.put("streamWallMs", wall / 1e6);
    out.put("decisionsPerCpuSecond", all.length / (cpu / 1e9));
    out.put("p50Us", percentile(all, all.length, 0.50) / 1e3);
    out.put("p99Us", percentile(all, all.length, 0.99) / 1e3);
    out.put("p999Us", percentile(all, all.length, 0.999) / 1e3);
    out.put("maxUs", percentile(all, all.length, 1.0) / 1e3);
    out.put("placementP99Us", percentile(placedNs, placed, 0.99) / 1e3);
    out.put("refusalP50Us", percentile(refusedNs, refused, 0.50) / 1e3);
    out.put("refusalP99Us", percentile(refusedNs, refused, 0.99) / 1e3);
    // CPU time of each decision (about 1 us of resolution and overhead): what latency would be
    // on an idle core.
    out.put("placementCpuP50Us", percentile(placedCpu, placed, 0.50) / 1e3);
    out.put("placementCpuP99Us", percentile(placedCpu, placed, 0.99) / 1e3);
    out.put("refusalCpuP50Us", percentile(refusedCpu, refused, 0.50) / 1e3);
    out.put("refusalCpuP99Us", percentile(refusedCpu, refused, 0.99) / 1e3);
    long[] allCpu = Arrays.copyOf(placedCpu, placed + refused);
    System.arraycopy(refusedCpu, 0, allCpu, placed, refused);
    out.put("cpuP50Us", percentile(allCpu, allCpu.length, 0.50) / 1e3);
    out.put("cpuP99Us", percentile(allCpu, allCpu.length, 0.99) / 1e3);
    out.put("meanUtilization", utilizationSum / w.jobs.size());
    return out;
  }

  static double percentile(long[] values, int n, double q) {
    if (n == 0) {
      return 0;
    }
    long[] sorted = Arrays.copyOf(values, n);
    Arrays.sort(sorted);
    int i = (int) Math.ceil(q * n) - 1;
    return sorted[Math.max(0, Math.min(n - 1, i))];
  }

  /**
   * What one decision costs the operator: {@code LeaseBinder} keeps a market ({@link
   * MarketSnapshot}) and brings it up to date from the informer caches before each bind. Each
   * decision here follows one bind's ledger writes (the nodes of the previous placement replaced by
   * copies with the new hold and a new resourceVersion, as the binder's writes put them in the
   * cache). Also what building the market from the same API objects takes, as the operator did for
   * every bind before.
   */
  private static Map<String, Object> operatorDecision(Workload w) {
    List<GpuNode> nodes =
        new ArrayList<>(w.nodes.stream().map(n -> Kube.gpuNode(n, true)).toList());
    long version = 1;
    for (GpuNode n : nodes) {
      n.getMetadata().setResourceVersion(Long.toString(version++));
    }
    Map<String, Integer> position = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      position.put(nodes.get(i).getMetadata().getName(), i);
    }
    List<GpuOffer> offers = w.offers.stream().map(Kube::offer).toList();
    for (GpuOffer o : offers) {
      o.getMetadata().setUid(o.getMetadata().getNamespace() + "/" + o.getMetadata().getName());
      o.getMetadata().setGeneration(1L);
    }
    Map<String, Namespace> namespaces = new HashMap<>();
    Kube.namespaces(w).forEach(ns -> namespaces.put(ns.getMetadata().getName(), ns));
    var json = new io.fabric8.kubernetes.client.utils.KubernetesSerialization();

    MarketSnapshot snapshot = new MarketSnapshot();
    snapshot.market(nodes, offers, namespaces::get);
    int decisions = Math.min(2_000, w.jobs.size());
    long[] times = new long[decisions];
    for (int i = 0; i < decisions; i++) {
      var request = w.jobs.get(i).request();
      long t = System.nanoTime();
      Decision d = snapshot.market(nodes, offers, namespaces::get).place(request);
      times[i] = System.nanoTime() - t;
      if (d instanceof Placement p) {
        for (var e : p.gpusByNode().entrySet()) {
          int at = position.get(e.getKey());
          GpuNode written = json.clone(nodes.get(at));
          written
              .getStatus()
              .allocations
              .add(
                  new GpuAllocation(
                      new ObjectRef(request.tenant(), "lease-" + i),
                      "uid-" + i,
                      p.offer().id(),
                      e.getValue()));
          written.getStatus().leasedGpus += e.getValue();
          written.getMetadata().setResourceVersion(Long.toString(version++));
          nodes.set(at, written);
        }
      }
    }
    long[] rebuilds = new long[5];
    var request = w.jobs.get(0).request();
    for (int i = 0; i < rebuilds.length; i++) {
      long t = System.nanoTime();
      MarketView.market(nodes, offers, namespaces::get, null).place(request);
      rebuilds[i] = System.nanoTime() - t;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    // The first decisions after the build warm the JIT: the figures are of the second half.
    long[] warm = Arrays.copyOfRange(times, decisions / 2, decisions);
    out.put("operatorDecisionMs", percentile(warm, warm.length, 0.5) / 1e6);
    out.put("operatorDecisionP99Ms", percentile(warm, warm.length, 0.99) / 1e6);
    out.put("operatorMarketBuilds", snapshot.builds());
    out.put("operatorRebuildMs", percentile(rebuilds, rebuilds.length, 0.5) / 1e6);
    return out;
  }

  /** Bytes of heap per node, offer and job, as the market core and as API objects. */
  static Map<String, Object> heap(Workload.Size size, long seed) {
    Map<String, Object> out = new LinkedHashMap<>();
    long m0 = used();
    Workload w = Workload.generate(size, seed);
    long m1 = used();
    List<ComputeJob> computeJobs = w.jobs.stream().map(Kube::job).toList();
    long m2 = used();
    w.jobs = null;
    long m3 = used();
    Market market = new Market(w.nodeStates(), w.offerStates());
    long m4 = used();
    List<GpuNode> gpuNodes = w.nodes.stream().map(n -> Kube.gpuNode(n, true)).toList();
    long m5 = used();
    List<GpuOffer> gpuOffers = w.offers.stream().map(Kube::offer).toList();
    long m6 = used();
    int n = size.nodes();
    int o = size.offers();
    int j = size.jobs();
    // m1 - m0 is the fleet and the jobs in the core's form; m2 - m3 the jobs alone.
    out.put("coreBytesPerNodeWithItsTwoOffers", (m1 - m0 - (m2 - m3)) / (double) n);
    out.put("coreBytesPerJob", (m2 - m3) / (double) j);
    out.put("marketIndexBytesPerOffer", (m4 - m3) / (double) o);
    out.put("gpuNodeObjectBytes", (m5 - m4) / (double) n);
    out.put("gpuOfferObjectBytes", (m6 - m5) / (double) o);
    out.put("computeJobObjectBytes", (m2 - m1) / (double) j);
    out.put("coreHeldMiB", (m1 - m0 + m4 - m3) / 1048576.0);
    out.put("apiObjectsHeldMiB", (m2 - m1 + m6 - m4) / 1048576.0);
    // Keep everything reachable until measured.
    if (market.node("") != null || gpuNodes.size() + gpuOffers.size() + computeJobs.size() < 0) {
      out.put("unreachable", true);
    }
    return out;
  }

  static long used() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      try {
        Thread.sleep(30);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
