package io.gpumarket.bench;

import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.PlacementRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A bound on the best placement of a set of requests on a free fleet: the most GPUs any placement
 * can give them, and the least a placement of all of them can cost. Solved exactly as a min-cost
 * max-flow over a relaxation of the integer problem, so both are true bounds.
 *
 * <p>What the relaxation keeps: a request's GPUs only go through offers that could serve it alone
 * on the free fleet (every block on a node it may use, the whole gang within the offer's cap), to
 * that offer's nodes that it may use, at that offer's price; a request no offer could serve alone
 * takes nothing; and on a node of {@code h} healthy GPUs, blocks of {@code b} GPUs or of a multiple
 * of {@code b} take at most {@code floor(h/b)·b} of them (block sizes dividing one another, as 1,
 * 2, 4 and 8 do, nest: an 8-GPU block counts against the room for 4-, 2- and 1-GPU blocks too).
 *
 * <p>What it drops, so that it stays a flow: a gang may still be placed in part once others are
 * placed, and its GPUs may come through several such offers; offer caps bind each request alone,
 * not all of them together; and blocks of sizes that do not divide one another only share the
 * node's healthy GPUs.
 */
final class PlacementBound {
  private final List<NodeState> nodes;
  private final List<OfferState> offers;
  private final Function<String, Object> tenantKind;
  private final Map<String, List<Integer>> offersOfNode = new HashMap<>();
  private final Map<String, NodeState> byName = new HashMap<>();
  private final Map<String, List<Integer>> offersOfModel = new HashMap<>();

  /** Each offer's nodes, each once, null where the fleet has no such node. */
  private final List<NodeState[]> nodesOfOffer = new ArrayList<>();

  /** The offers that could serve a class of requests alone, by the class's key. */
  private final Map<List<Object>, BitSet> servingByClass = new HashMap<>();

  /**
   * @param tenantKind maps a tenant to a key equal for tenants every offer treats alike (so
   *     requests group into fewer classes); {@code t -> t} is always right
   */
  PlacementBound(
      List<NodeState> nodes, List<OfferState> offers, Function<String, Object> tenantKind) {
    this.nodes = nodes;
    this.offers = offers;
    this.tenantKind = tenantKind;
    for (int o = 0; o < offers.size(); o++) {
      for (String n : offers.get(o).nodes()) {
        offersOfNode.computeIfAbsent(n, k -> new ArrayList<>()).add(o);
      }
    }
    for (NodeState n : nodes) {
      byName.put(n.name(), n);
    }
    for (int o = 0; o < offers.size(); o++) {
      offersOfModel.computeIfAbsent(offers.get(o).model(), k -> new ArrayList<>()).add(o);
      nodesOfOffer.add(
          new TreeSet<>(offers.get(o).nodes()).stream().map(byName::get).toArray(NodeState[]::new));
    }
  }

  /** The most GPUs placeable and the least cost (cents per hour) of placing that many. */
  record Bound(long gpus, long cents) {}

  /**
   * The offers (by index) that could serve the request on the free fleet: every block on a node it
   * may use, the whole gang within the offer's cap. A request's blocks only ever go through one of
   * these, and a request with none is never placed.
   */
  BitSet servingAlone(PlacementRequest r) {
    return servingByClass.computeIfAbsent(classKey(r), k -> serving(r));
  }

  private BitSet serving(PlacementRequest r) {
    BitSet serving = new BitSet();
    for (String model : new TreeSet<>(r.models())) {
      for (int o : offersOfModel.getOrDefault(model, List.of())) {
        OfferState offer = offers.get(o);
        if (!Eligibility.offer(offer, r)
            || (offer.gpuCap() != null && offer.gpuCap() < r.totalGpus())) {
          continue;
        }
        long blocks = 0;
        for (NodeState n : nodesOfOffer.get(o)) {
          if (Eligibility.node(n, offer, r)) {
            blocks += n.healthyGpus() / r.gpusPerBlock();
          }
        }
        if (blocks >= r.blocks()) {
          serving.set(o);
        }
      }
    }
    return serving;
  }

  /** Requests with equal keys are alike to every offer and node: they form one class. */
  private List<Object> classKey(PlacementRequest r) {
    return Arrays.asList(
        r.blocks(),
        r.models(),
        r.tier(),
        new TreeSet<>(r.regions()),
        r.minUptimeRatio(),
        r.requireVerified(),
        r.gpusPerBlock(),
        r.maxPrice(),
        r.currency(),
        r.duration(),
        tenantKind.apply(r.tenant()));
  }

  boolean fitsAlone(PlacementRequest r) {
    return !servingAlone(r).isEmpty();
  }

  /**
   * The most GPUs placeable for these requests, without the cost (much faster on a large batch).
   */
  long maxGpus(List<PlacementRequest> requests) {
    return solve(requests, false).gpus();
  }

  Bound solve(List<PlacementRequest> requests) {
    return solve(requests, true);
  }

  private Bound solve(List<PlacementRequest> requests, boolean priced) {
    // Uptime thresholds asked for, so nodes group by which thresholds they meet.
    TreeSet<Double> thresholds = new TreeSet<>();
    for (PlacementRequest r : requests) {
      if (r.minUptimeRatio() != null) {
        thresholds.add(r.minUptimeRatio());
      }
    }
    // Nodes that no request can tell apart, with the same healthy GPUs, form one group.
    Map<List<Object>, int[]> groupIndex = new LinkedHashMap<>(); // key -> {index, nodes}
    List<NodeState> groupNode = new ArrayList<>();
    List<List<Integer>> groupOffers = new ArrayList<>();
    for (NodeState n : nodes) {
      if (!n.ready() || !n.schedulable() || n.healthyGpus() <= 0) {
        continue;
      }
      int met = 0;
      for (double t : thresholds) {
        if (n.uptime24h() != null && n.uptime24h() >= t) {
          met++;
        }
      }
      List<Integer> os = offersOfNode.getOrDefault(n.name(), List.of());
      List<Object> key =
          Arrays.asList(
              os,
              n.provider(),
              n.model(),
              n.tier(),
              n.region(),
              n.verified(),
              met,
              n.uptime24h() == null,
              n.healthyGpus());
      int[] g = groupIndex.get(key);
      if (g == null) {
        g = new int[] {groupIndex.size(), 0};
        groupIndex.put(key, g);
        groupNode.add(n);
        groupOffers.add(os);
      }
      g[1]++;
    }
    // Requests with equal constraints form one class; those that cannot fit alone are left out.
    Map<List<Object>, long[]> classIndex = new LinkedHashMap<>(); // key -> {index, demand}
    List<PlacementRequest> classRequest = new ArrayList<>();
    List<BitSet> classServing = new ArrayList<>();
    for (PlacementRequest r : requests) {
      List<Object> key = classKey(r);
      long[] c = classIndex.get(key);
      if (c == null) {
        BitSet serving = servingAlone(r);
        if (serving.isEmpty()) {
          classIndex.put(key, new long[] {-1, 0});
          continue;
        }
        c = new long[] {classRequest.size(), 0};
        classIndex.put(key, c);
        classRequest.add(r);
        classServing.add(serving);
      } else if (c[0] < 0) {
        continue;
      }
      c[1] += r.totalGpus();
    }
    // Block sizes, largest first; each size's layer drains into the layer of the next smaller
    // size that divides it, or straight into the node group.
    int[] sizes =
        classRequest.stream()
            .mapToInt(PlacementRequest::gpusPerBlock)
            .distinct()
            .sorted()
            .toArray();
    int layers = sizes.length;
    Map<Integer, Integer> layerOf = new HashMap<>();
    for (int i = 0; i < layers; i++) {
      layerOf.put(sizes[i], i);
    }
    int groups = groupNode.size();
    long[] groupCount = new long[groups];
    for (int[] g : groupIndex.values()) {
      groupCount[g[0]] = g[1];
    }
    Map<String, List<Integer>> groupsByModel = new HashMap<>();
    for (int g = 0; g < groups; g++) {
      groupsByModel.computeIfAbsent(groupNode.get(g).model(), k -> new ArrayList<>()).add(g);
    }
    // Each class's arcs: {layer node, price}. Classes with the same arcs are one commodity: merged,
    // the flow is the same and much smaller (most classes differ only in what no offer looks at).
    Map<List<Long>, long[]> commodities = new LinkedHashMap<>(); // arcs -> {demand}
    for (long[] c : classIndex.values()) {
      if (c[0] < 0) {
        continue;
      }
      int ci = (int) c[0];
      PlacementRequest r = classRequest.get(ci);
      int layer = layerOf.get(r.gpusPerBlock());
      List<Long> arcs = new ArrayList<>();
      for (String model : new TreeSet<>(r.models())) {
        for (int g : groupsByModel.getOrDefault(model, List.of())) {
          NodeState n = groupNode.get(g);
          long best = Long.MAX_VALUE;
          for (int o : groupOffers.get(g)) {
            if (classServing.get(ci).get(o) && Eligibility.node(n, offers.get(o), r)) {
              best = Math.min(best, offers.get(o).price().movePointRight(2).longValueExact());
            }
          }
          if (best != Long.MAX_VALUE) {
            arcs.add((long) g * layers + layer);
            arcs.add(priced ? best : 0);
          }
        }
      }
      commodities.computeIfAbsent(arcs, k -> new long[1])[0] += c[1];
    }
    int source = 0;
    int firstCommodity = 1;
    int firstGroup = firstCommodity + commodities.size();
    int firstLayer = firstGroup + groups;
    int sink = firstLayer + groups * layers;
    MinCostFlow flow = new MinCostFlow(sink + 1);
    // Where a class's arc into group g for block size index i lands: its layer, or the group itself
    // where no layer on the way binds (b divides h all along, as on most hosts).
    int[] entry = new int[groups * layers];
    for (int g = 0; g < groups; g++) {
      NodeState n = groupNode.get(g);
      long count = groupCount[g];
      flow.arc(firstGroup + g, sink, count * n.healthyGpus(), 0);
      for (int i = 0; i < layers; i++) {
        int b = sizes[i];
        int into = firstGroup + g;
        for (int j = i - 1; j >= 0; j--) {
          if (b % sizes[j] == 0) {
            into = entry[g * layers + j];
            break;
          }
        }
        if (n.healthyGpus() % b != 0) {
          flow.arc(firstLayer + g * layers + i, into, count * (n.healthyGpus() / b) * b, 0);
          entry[g * layers + i] = firstLayer + g * layers + i;
        } else {
          // Room for b-blocks is all of h: the layer adds nothing, only the ones below it.
          entry[g * layers + i] = into;
        }
      }
    }
    int k = firstCommodity;
    for (var e : commodities.entrySet()) {
      flow.arc(source, k, e.getValue()[0], 0);
      List<Long> arcs = e.getKey();
      for (int i = 0; i < arcs.size(); i += 2) {
        flow.arc(k, entry[(int) (long) arcs.get(i)], Long.MAX_VALUE / 4, arcs.get(i + 1));
      }
      k++;
    }
    long[] solved = flow.solve(source, sink);
    return new Bound(solved[0], solved[1]);
  }
}
