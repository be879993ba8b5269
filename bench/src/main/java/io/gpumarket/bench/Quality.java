package io.gpumarket.bench;

import io.gpumarket.market.Decision;
import io.gpumarket.market.Market;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import io.gpumarket.market.Refusal;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeSet;

/**
 * Quality of the placements: a batch of pending jobs on a free fleet, placed in arrival order by
 * the market and by two naive policies, against a bound on the optimum ({@link PlacementBound}: a
 * relaxation solved exactly, so its maximum is at least the most GPUs any policy can place, and its
 * min cost for a given set of jobs at most what any placement of those jobs costs; the ratios below
 * are conservative). The GPUs the market leaves unplaced are sorted by why, as things stood when
 * each job was refused.
 */
final class Quality {
  /** Share of the fleet's healthy GPUs that the batch asks for. */
  static final double LOAD = 0.9;

  record Policy(String name, int jobs, long gpus, double cost, double bound, List<Integer> placed) {
    double costRatio() {
      return bound == 0 ? 1 : cost / bound;
    }
  }

  record Result(
      int batchJobs,
      long batchGpus,
      long maxPlaceable,
      double boundSeconds,
      List<Policy> policies,
      Map<String, Long> marketUnplaced,
      Invariants.Report invariants) {}

  /** Why the market left a job's GPUs unplaced, in the order they are checked. */
  static final List<String> CAUSES =
      List.of(
          "no offer could serve it alone",
          "taken by earlier jobs",
          "fragmented",
          "no one offer has room");

  private final Workload w;
  private final List<Workload.Job> batch = new ArrayList<>();
  private final Map<String, NodeState> nodes = new HashMap<>();
  private final PlacementBound relaxation;

  Quality(Workload w) {
    this.w = w;
    long cap = (long) (LOAD * w.healthyGpus());
    long sum = 0;
    for (Workload.Job j : w.jobs) {
      if (sum + j.gpus() > cap) {
        break;
      }
      sum += j.gpus();
      batch.add(j);
    }
    for (NodeState n : w.nodeStates()) {
      nodes.put(n.name(), n);
    }
    relaxation = new PlacementBound(w.nodeStates(), w.offerStates(), w.tenants::get);
  }

  Result run() {
    List<Policy> policies = new ArrayList<>();
    Invariants.Report report = new Invariants.Report();
    Map<String, Long> unplaced = new LinkedHashMap<>();
    List<PlacementRequest> requests = batch.stream().map(Workload.Job::request).toList();
    Market fresh = new Market(w.nodeStates(), w.offerStates());
    int[] reach = requests.stream().mapToInt(fresh::reach).toArray();
    // The market decides jobs that wait together as the operator does (Market#placeBatch); in the
    // order they came, for comparison.
    policies.add(market("market", Market.batchOrder(requests, reach), report, unplaced));
    policies.add(
        market(
            "market, arrival order",
            java.util.stream.IntStream.range(0, batch.size()).toArray(),
            report,
            new LinkedHashMap<>()));
    long started = System.nanoTime();
    long max = relaxation.maxGpus(requests);
    policies.add(naive("first-fit", null));
    policies.add(naive("random-fit", new Random(w.seed)));
    double seconds = (System.nanoTime() - started) / 1e9;
    long batchGpus = batch.stream().mapToLong(Workload.Job::gpus).sum();
    return new Result(batch.size(), batchGpus, max, seconds, policies, unplaced, report);
  }

  /**
   * The market deciding the batch's jobs in an order, each placement held before the next decision;
   * checks each placement and the end state, and sorts what it left unplaced by cause.
   */
  private Policy market(
      String name, int[] order, Invariants.Report report, Map<String, Long> unplaced) {
    Market market = new Market(w.nodeStates(), w.offerStates());
    Ledger ledger = new Ledger();
    List<Integer> placed = new ArrayList<>();
    double cost = 0;
    long gpus = 0;
    Map<Integer, Decision> decisions = new LinkedHashMap<>();
    CAUSES.forEach(c -> unplaced.put(c, 0L));
    for (int i : order) {
      Workload.Job job = batch.get(i);
      Decision d = market.place(job.request());
      decisions.put(i, d);
      if (d instanceof Placement p) {
        String wrong = ledger.check(p, job.request());
        if (wrong != null) {
          report.violation(job.name() + ": " + wrong);
        }
        ledger.take(p);
        market.hold(p);
        placed.add(i);
        cost += p.offer().price().doubleValue() * job.gpus();
        gpus += job.gpus();
      } else {
        String cause = cause(job.request(), ledger);
        if (cause == null) {
          report.violation(job.name() + ": refused, though one offer has room for it");
        } else {
          unplaced.merge(cause, (long) job.gpus(), Long::sum);
        }
      }
    }
    Invariants.afterBatch(w, batch, decisions, market, ledger, report);
    placed.sort(null);
    return new Policy(name, placed.size(), gpus, cost, bound(placed)[1] / 100.0, placed);
  }

  /**
   * Why a request the market refused finds no room on this ledger: one of {@link #CAUSES}, or null
   * if one offer has room for it after all. Only the offers that could serve it on the free fleet,
   * and their nodes it may use, count.
   */
  private String cause(PlacementRequest r, Ledger ledger) {
    BitSet serving = relaxation.servingAlone(r);
    if (serving.isEmpty()) {
      return CAUSES.get(0);
    }
    List<OfferState> offers = w.offerStates();
    Map<String, Integer> usable = new HashMap<>(); // node -> free GPUs
    boolean oneOffer = false;
    for (int o = serving.nextSetBit(0); o >= 0; o = serving.nextSetBit(o + 1)) {
      OfferState offer = offers.get(o);
      int blocks = 0;
      for (String n : new TreeSet<>(offer.nodes())) {
        NodeState node = nodes.get(n);
        if (Eligibility.node(node, offer, r)) {
          usable.put(n, ledger.free(node));
          blocks += ledger.free(node) / r.gpusPerBlock();
        }
      }
      oneOffer |= blocks >= r.blocks() && ledger.capLeft(offer) >= r.totalGpus();
    }
    int free = 0;
    int blocks = 0;
    for (int f : usable.values()) {
      free += f;
      blocks += f / r.gpusPerBlock();
    }
    if (free < r.totalGpus()) {
      return CAUSES.get(1);
    }
    if (blocks < r.blocks()) {
      return CAUSES.get(2);
    }
    return oneOffer ? null : CAUSES.get(3);
  }

  /** Each job in turn takes the first (or a random) offer and nodes with room. */
  private Policy naive(String name, Random random) {
    Ledger ledger = new Ledger();
    List<Integer> placed = new ArrayList<>();
    double cost = 0;
    long gpus = 0;
    List<OfferState> offers = w.offerStates();
    for (int i = 0; i < batch.size(); i++) {
      Workload.Job job = batch.get(i);
      PlacementRequest r = job.request();
      List<OfferState> order = offers;
      if (random != null) {
        order = new ArrayList<>(offers);
        Collections.shuffle(order, random);
      }
      for (OfferState o : order) {
        if (!Eligibility.offer(o, r) || ledger.capLeft(o) < job.gpus()) {
          continue;
        }
        List<String> candidates = new ArrayList<>(o.nodes());
        if (random != null) {
          Collections.shuffle(candidates, random);
        }
        List<String> blocks = new ArrayList<>();
        for (String n : candidates) {
          NodeState node = nodes.get(n);
          if (!Eligibility.node(node, o, r)) {
            continue;
          }
          int take = Math.min(ledger.free(node) / r.gpusPerBlock(), r.blocks() - blocks.size());
          for (int k = 0; k < take; k++) {
            blocks.add(n);
          }
          if (blocks.size() == r.blocks()) {
            break;
          }
        }
        if (blocks.size() == r.blocks()) {
          ledger.take(new Placement(o, o.model(), blocks, r.gpusPerBlock()));
          placed.add(i);
          cost += o.price().doubleValue() * job.gpus();
          gpus += job.gpus();
          break;
        }
      }
    }
    return new Policy(name, placed.size(), gpus, cost, bound(placed)[1] / 100.0, placed);
  }

  /**
   * The relaxation for a set of the batch's jobs: {max GPUs placeable, min cost in cents per hour
   * of placing that many}.
   */
  long[] bound(List<Integer> jobs) {
    List<PlacementRequest> requests = new ArrayList<>();
    for (int i : jobs) {
      requests.add(batch.get(i).request());
    }
    PlacementBound.Bound b = relaxation.solve(requests);
    return new long[] {b.gpus(), b.cents()};
  }

  /** The benchmark's own account of GPUs held per node and leased per offer. */
  final class Ledger {
    final Map<String, Integer> held = new HashMap<>();
    final Map<Object, Integer> leased = new HashMap<>();

    int free(NodeState n) {
      return n.healthyGpus() - held.getOrDefault(n.name(), 0);
    }

    int capLeft(OfferState o) {
      return o.gpuCap() == null ? Integer.MAX_VALUE : o.gpuCap() - leased.getOrDefault(o.id(), 0);
    }

    void take(Placement p) {
      p.gpusByNode().forEach((n, g) -> held.merge(n, g, Integer::sum));
      leased.merge(p.offer().id(), p.blockNodes().size() * p.gpusPerBlock(), Integer::sum);
    }

    /** What is wrong with a placement for a request on this ledger, or null. */
    String check(Placement p, PlacementRequest r) {
      OfferState o = p.offer();
      if (!Eligibility.offer(o, r)) {
        return "offer " + o.id() + " does not meet the request";
      }
      if (p.blockNodes().size() != r.blocks() || p.gpusPerBlock() != r.gpusPerBlock()) {
        return "placed " + p.blockNodes().size() + " x " + p.gpusPerBlock();
      }
      if (capLeft(o) < r.totalGpus()) {
        return "offer " + o.id() + " over its cap";
      }
      for (var e : p.gpusByNode().entrySet()) {
        NodeState n = nodes.get(e.getKey());
        if (!o.nodes().contains(e.getKey()) || !Eligibility.node(n, o, r)) {
          return "node " + e.getKey() + " does not meet the request";
        }
        if (free(n) < e.getValue()) {
          return "node " + e.getKey() + " over-committed";
        }
      }
      return null;
    }
  }

  static String reason(Decision d) {
    return d instanceof Refusal r ? r.reason() + ": " + r.message() : "placed";
  }

  static boolean same(Object a, Object b) {
    return Objects.equals(a, b);
  }
}
