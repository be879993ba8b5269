package io.gpumarket.market;

import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.market.Refusal.Reason;
import io.gpumarket.market.Refusal.Rejection;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The market's matching core: a reverse auction over offers. Pure: plain inputs, plain output, no
 * client, no clock.
 *
 * <p>Among offers that meet every constraint, the winner is the lowest price per GPU-hour, then the
 * more preferred model, then the higher 24h uptime of the nodes used, then the tightest fit (the
 * fewest GPUs left free on the nodes used, so large blocks stay whole), then the offer's namespace
 * and name. Blocks go to nodes best-fit: the node with the fewest free GPUs that still holds a
 * block first. A gang is placed whole or not at all, and no node is ever given more GPUs than
 * {@link NodeState#freeGpus()}.
 *
 * <p>A market is a snapshot. A caller that decides a batch of requests against one snapshot can
 * advance it with {@link #hold} (and {@link #release}), so that each decision sees the ones before
 * it. Not thread-safe.
 *
 * <p>Offers are indexed by model and sorted by price, so a decision looks only at offers of the
 * acceptable models and stops at the first price above the best candidate found; an offer whose
 * nodes have no free block large enough is skipped without looking at its nodes. Only a refusal
 * looks at every offer of the acceptable models, to say why.
 */
public final class Market {
  /** Node states by position; a node's position never changes, its state does. */
  private final NodeState[] nodes;

  private final Map<String, Integer> nodeIndex = new HashMap<>();

  /** Every offer, in the order given: refusals list rejections in this order. */
  private final List<Slot> slots;

  private final Map<String, PriceIndex> byModel = new HashMap<>();
  private final Map<String, List<Slot>> byModelInOrder = new HashMap<>();
  private final Map<ObjectRef, Slot> byId = new HashMap<>();
  private final List<List<Slot>> slotsOfNode = new ArrayList<>();

  /** An offer and what the market keeps about it between decisions. */
  private static final class Slot {
    final int order;
    OfferState offer;

    /** Position of each of its nodes, or -1 for a node the market does not know. */
    final int[] nodes;

    /** Most free GPUs on one of its nodes that is up, uncordoned, of its provider and model. */
    int largestFree;

    PriceIndex index;
    int position;

    Slot(int order, OfferState offer, int[] nodes) {
      this.order = order;
      this.offer = offer;
      this.nodes = nodes;
    }

    /** The largest block it could sell now, at best. */
    int room() {
      return Math.min(largestFree, offer.remainingCap());
    }
  }

  /**
   * One model's offers by price, with a max-tree over {@link Slot#room()}: a decision jumps to the
   * next offer that could hold one block instead of walking past the full ones.
   */
  private static final class PriceIndex {
    final Slot[] slots;
    final int size;
    final int[] tree;

    PriceIndex(List<Slot> byPrice) {
      slots = byPrice.toArray(new Slot[0]);
      int s = 1;
      while (s < slots.length) {
        s *= 2;
      }
      size = s;
      tree = new int[2 * s];
      for (int i = 0; i < slots.length; i++) {
        slots[i].index = this;
        slots[i].position = i;
        tree[s + i] = slots[i].room();
      }
      for (int i = s - 1; i > 0; i--) {
        tree[i] = Math.max(tree[2 * i], tree[2 * i + 1]);
      }
    }

    void update(Slot slot) {
      int i = size + slot.position;
      tree[i] = slot.room();
      for (i /= 2; i > 0; i /= 2) {
        tree[i] = Math.max(tree[2 * i], tree[2 * i + 1]);
      }
    }

    /** The first position at or after {@code from} whose room is at least {@code need}, or -1. */
    int next(int from, int need) {
      return find(1, 0, size, from, need);
    }

    private int find(int node, int lo, int hi, int from, int need) {
      if (hi <= from || tree[node] < need) {
        return -1;
      }
      if (hi - lo == 1) {
        return lo;
      }
      int mid = (lo + hi) / 2;
      int left = find(2 * node, lo, mid, from, need);
      return left >= 0 ? left : find(2 * node + 1, mid, hi, from, need);
    }
  }

  public Market(Iterable<NodeState> nodes, List<OfferState> offers) {
    List<NodeState> states = new ArrayList<>();
    for (NodeState n : nodes) {
      Integer at = nodeIndex.putIfAbsent(n.name(), states.size());
      if (at == null) {
        states.add(n);
        slotsOfNode.add(new ArrayList<>(2));
      } else {
        states.set(at, n); // the last state given for a name wins
      }
    }
    this.nodes = states.toArray(new NodeState[0]);
    this.slots = new ArrayList<>(offers.size());
    Map<String, List<Slot>> models = new HashMap<>();
    for (OfferState offer : offers) {
      int[] positions = new int[offer.nodes().size()];
      for (int i = 0; i < positions.length; i++) {
        positions[i] = nodeIndex.getOrDefault(offer.nodes().get(i), -1);
      }
      Slot slot = new Slot(slots.size(), offer, positions);
      slots.add(slot);
      byId.putIfAbsent(offer.id(), slot);
      models.computeIfAbsent(offer.model(), k -> new ArrayList<>()).add(slot);
      for (int position : positions) {
        if (position >= 0) {
          slotsOfNode.get(position).add(slot);
        }
      }
      slot.largestFree = largestFree(slot);
    }
    Comparator<Slot> byPrice =
        Comparator.comparing((Slot s) -> s.offer.price()).thenComparingInt(s -> s.order);
    models.forEach(
        (model, list) -> {
          byModelInOrder.put(model, List.copyOf(list));
          list.sort(byPrice);
          byModel.put(model, new PriceIndex(list));
        });
  }

  /** The state of a node now, or null if the market does not know it. */
  public NodeState node(String name) {
    Integer at = nodeIndex.get(name);
    return at == null ? null : nodes[at];
  }

  /**
   * Records that a placement now holds its GPUs, as the binder's ledger write does, so that later
   * decisions on this snapshot see them taken.
   */
  public void hold(Placement placement) {
    change(placement, 1);
  }

  /** Gives back to this snapshot the GPUs a placement held. */
  public void release(Placement placement) {
    change(placement, -1);
  }

  private void change(Placement placement, int sign) {
    Map<String, Integer> byNode = placement.gpusByNode();
    int total = 0;
    for (var e : byNode.entrySet()) {
      if (!nodeIndex.containsKey(e.getKey())) {
        throw new IllegalArgumentException("no node " + e.getKey());
      }
      total += e.getValue();
    }
    for (var e : byNode.entrySet()) {
      int at = nodeIndex.get(e.getKey());
      nodes[at] = nodes[at].withHeld(nodes[at].heldGpus() + sign * e.getValue());
    }
    Slot slot = byId.get(placement.offer().id());
    if (slot != null) {
      slot.offer = slot.offer.withLeased(slot.offer.leasedGpus() + sign * total);
      slot.index.update(slot);
    }
    for (String name : byNode.keySet()) {
      for (Slot s : slotsOfNode.get(nodeIndex.get(name))) {
        s.largestFree = largestFree(s);
        s.index.update(s);
      }
    }
  }

  private NodeState at(int position) {
    return position < 0 ? null : nodes[position];
  }

  private int largestFree(Slot slot) {
    OfferState offer = slot.offer;
    int largest = 0;
    for (int position : slot.nodes) {
      NodeState node = at(position);
      if (node != null
          && node.ready()
          && node.schedulable()
          && Objects.equals(node.provider(), offer.provider())
          && Objects.equals(node.model(), offer.model())) {
        largest = Math.max(largest, node.freeGpus());
      }
    }
    return largest;
  }

  public Decision place(PlacementRequest request) {
    if (request.offerRef() == null) {
      Candidate best = cheapest(request);
      if (best != null) {
        return new Placement(
            best.offer, best.offer.model(), best.blockNodes, request.gpusPerBlock());
      }
    }
    return decide(request);
  }

  /**
   * The best candidate among offers of the acceptable models, visiting them by price and stopping
   * at the first one dearer than the best found; null if none fits. Records no rejections.
   */
  private Candidate cheapest(PlacementRequest request) {
    Candidate best = null;
    int need = request.gpusPerBlock();
    List<String> models = request.models();
    for (int preference = 0; preference < models.size(); preference++) {
      String model = models.get(preference);
      PriceIndex offers = byModel.get(model);
      if (offers == null || models.indexOf(model) != preference) {
        continue;
      }
      for (int at = offers.next(0, need); at >= 0; at = offers.next(at + 1, need)) {
        Slot slot = offers.slots[at];
        OfferState offer = slot.offer;
        if (best != null && offer.price().compareTo(best.offer.price()) > 0) {
          break;
        }
        if (request.maxPrice() != null && offer.price().compareTo(request.maxPrice()) > 0) {
          break;
        }
        if (slot.largestFree < need
            || offer.remainingCap() / need < request.blocks()
            || check(offer, request) != null) {
          continue;
        }
        Candidate candidate = fit(slot, preference, request, null);
        if (candidate != null && (best == null || ORDER.compare(candidate, best) < 0)) {
          best = candidate;
        }
      }
    }
    return best;
  }

  /** Looks at every offer the request could use: the winner, or why there is none. */
  Decision decide(PlacementRequest request) {
    List<Rejection> rejections = new ArrayList<>();
    Candidate best = null;
    boolean anyOfferForModel = false;
    for (Slot slot : candidates(request)) {
      OfferState offer = slot.offer;
      if (request.offerRef() != null && !request.offerRef().equals(offer.id())) {
        continue;
      }
      int preference = request.models().indexOf(offer.model());
      if (preference < 0) {
        if (request.offerRef() != null) {
          rejections.add(
              new Rejection(
                  offer,
                  Reason.NoOfferForModel,
                  () ->
                      "offer "
                          + offer.id()
                          + " sells "
                          + offer.model()
                          + ", not "
                          + models(request)));
        }
        continue;
      }
      anyOfferForModel = true;
      Rejection rejection = check(offer, request);
      if (rejection != null) {
        rejections.add(rejection);
        continue;
      }
      Candidate candidate = fit(slot, preference, request, rejections);
      if (candidate != null && (best == null || ORDER.compare(candidate, best) < 0)) {
        best = candidate;
      }
    }
    if (best != null) {
      return new Placement(best.offer, best.offer.model(), best.blockNodes, request.gpusPerBlock());
    }
    if (request.offerRef() != null && rejections.isEmpty()) {
      return new Refusal(
          Reason.NoSuchOffer, "offer " + request.offerRef() + " does not exist", List.of());
    }
    if (!anyOfferForModel && rejections.isEmpty()) {
      return new Refusal(Reason.NoOfferForModel, "no offer sells " + models(request), List.of());
    }
    return explain(request, rejections);
  }

  /**
   * The offers a full decision looks at, in the order given: the named one, or those of the
   * acceptable models (no other can qualify, and without a named offer none is reported).
   */
  private List<Slot> candidates(PlacementRequest request) {
    if (request.offerRef() != null) {
      Slot slot = byId.get(request.offerRef());
      return slot == null ? List.of() : List.of(slot);
    }
    Set<String> models = new HashSet<>(request.models());
    if (models.size() == 1) {
      return byModelInOrder.getOrDefault(request.models().get(0), List.of());
    }
    List<Slot> out = new ArrayList<>();
    for (String model : models) {
      out.addAll(byModelInOrder.getOrDefault(model, List.of()));
    }
    out.sort(Comparator.comparingInt(s -> s.order));
    return out;
  }

  /** The offer-level checks, in the order a person would fix them. */
  private Rejection check(OfferState offer, PlacementRequest request) {
    if (!offer.currency().equals(request.currency())) {
      return new Rejection(
          offer, Reason.CurrencyMismatch, () -> offer.id() + " is priced in " + offer.currency());
    }
    if (!offer.admitsTenant().test(request.tenant())) {
      return new Rejection(
          offer,
          Reason.TenantNotAdmitted,
          () -> offer.id() + " does not admit namespace " + request.tenant());
    }
    if (offer.suspended()) {
      return new Rejection(offer, Reason.OfferSuspended, () -> offer.id() + " is suspended");
    }
    if (request.maxPrice() != null && offer.price().compareTo(request.maxPrice()) > 0) {
      return new Rejection(offer, Reason.PriceAboveCap, () -> price(offer) + " at " + offer.id());
    }
    if (request.duration() != null) {
      if (offer.minLease() != null && request.duration().compareTo(offer.minLease()) < 0) {
        return new Rejection(
            offer,
            Reason.LeaseDurationOutOfRange,
            () -> offer.id() + " leases for at least " + Durations.format(offer.minLease()));
      }
      if (offer.maxLease() != null && request.duration().compareTo(offer.maxLease()) > 0) {
        return new Rejection(
            offer,
            Reason.LeaseDurationOutOfRange,
            () -> offer.id() + " leases for at most " + Durations.format(offer.maxLease()));
      }
    }
    return null;
  }

  /**
   * Places every block of the request on the offer's nodes, or records why it cannot (unless {@code
   * rejections} is null). The words of a rejection are put together only if it is read.
   */
  private Candidate fit(
      Slot slot, int preference, PlacementRequest request, List<Rejection> rejections) {
    OfferState offer = slot.offer;
    int need = request.gpusPerBlock();
    boolean explain = rejections != null;
    List<NodeState> usable = new ArrayList<>();
    for (int position : slot.nodes) {
      NodeState node = at(position);
      if (eligible(node, offer, request) && (explain || node.freeGpus() >= need)) {
        usable.add(node);
      }
    }
    if (usable.isEmpty()) {
      if (explain) {
        List<NodeState> seen = new ArrayList<>(slot.nodes.length);
        for (int position : slot.nodes) {
          seen.add(at(position));
        }
        rejections.add(
            new Rejection(
                offer,
                Reason.NoQualifyingNode,
                () -> {
                  Map<String, Integer> excluded = new TreeMap<>();
                  for (NodeState node : seen) {
                    String why = nodeProblem(node, offer, request);
                    if (why != null) {
                      excluded.merge(why, 1, Integer::sum);
                    }
                  }
                  return offer.id()
                      + (excluded.isEmpty() ? " selects no GpuNode" : ": " + describe(excluded));
                }));
      }
      return null;
    }
    int capBlocks = offer.remainingCap() / need;
    int blocksLeft = Math.min(request.blocks(), capBlocks);
    int room = 0;
    for (NodeState node : usable) {
      room += node.freeGpus() / need;
    }
    if (Math.min(room, blocksLeft) < request.blocks()) {
      // Best-fit would place exactly this many blocks: no need to sort to know it falls short.
      if (explain) {
        rejectForCapacity(offer, request, usable, Math.min(room, blocksLeft), rejections);
      }
      return null;
    }
    usable.sort(Comparator.comparingInt(NodeState::freeGpus).thenComparing(NodeState::name));
    List<String> blockNodes = new ArrayList<>();
    double minUptime = Double.MAX_VALUE;
    int leftover = 0;
    for (NodeState node : usable) {
      if (blocksLeft == 0) {
        break;
      }
      int take = Math.min(node.freeGpus() / need, blocksLeft);
      if (take == 0) {
        continue;
      }
      for (int i = 0; i < take; i++) {
        blockNodes.add(node.name());
      }
      blocksLeft -= take;
      leftover += node.freeGpus() - take * need;
      minUptime = Math.min(minUptime, node.uptime24h() == null ? 0 : node.uptime24h());
    }
    return new Candidate(offer, preference, minUptime, leftover, blockNodes);
  }

  private static void rejectForCapacity(
      OfferState offer,
      PlacementRequest request,
      List<NodeState> usable,
      int placed,
      List<Rejection> rejections) {
    int need = request.gpusPerBlock();
    int largest = 0;
    int free = 0;
    for (NodeState node : usable) {
      largest = Math.max(largest, node.freeGpus());
      free += node.freeGpus();
    }
    int freeGpus = free;
    int largestBlock = largest;
    rejections.add(
        new Rejection(
            offer,
            Reason.InsufficientCapacity,
            () ->
                offer.id()
                    + " has room for "
                    + placed
                    + " of "
                    + request.blocks()
                    + (request.blocks() == 1 ? " block" : " blocks")
                    + " of "
                    + need
                    + " (largest free block "
                    + largestBlock
                    + ", "
                    + Math.min(freeGpus, offer.remainingCap())
                    + " GPUs free"
                    + (offer.gpuCap() != null && offer.remainingCap() < freeGpus
                        ? ", capped at " + offer.gpuCap() + " by the offer"
                        : "")
                    + ")"));
  }

  /** Whether a node of an offer can take part: {@link #nodeProblem} is null, without words. */
  private static boolean eligible(NodeState node, OfferState offer, PlacementRequest request) {
    return node != null
        && Objects.equals(node.provider(), offer.provider())
        && Objects.equals(node.model(), offer.model())
        && node.ready()
        && node.schedulable()
        && request.tier().accepts(node.tier())
        && (request.regions().isEmpty() || request.regions().contains(node.region()))
        && (!request.requireVerified() || node.verified())
        && (request.minUptimeRatio() == null
            || (node.uptime24h() != null && node.uptime24h() >= request.minUptimeRatio()));
  }

  /** Why a node of an offer cannot take part, or null if it can. */
  private static String nodeProblem(NodeState node, OfferState offer, PlacementRequest request) {
    if (node == null) {
      return "missing";
    }
    if (!Objects.equals(node.provider(), offer.provider())) {
      return "owned by provider " + node.provider() + ", not " + offer.provider();
    }
    if (!Objects.equals(node.model(), offer.model())) {
      return "of model " + node.model() + ", not " + offer.model();
    }
    if (!node.ready()) {
      return "not ready";
    }
    if (!node.schedulable()) {
      return "cordoned";
    }
    if (!request.tier().accepts(node.tier())) {
      return "in tier " + node.tier().value() + ", not " + request.tier().value();
    }
    if (!request.regions().isEmpty() && !request.regions().contains(node.region())) {
      return "in region " + node.region() + ", not " + String.join(" or ", request.regions());
    }
    if (request.requireVerified() && !node.verified()) {
      return "not verified";
    }
    if (request.minUptimeRatio() != null) {
      if (node.uptime24h() == null) {
        return "with no uptime measured yet";
      }
      if (node.uptime24h() < request.minUptimeRatio()) {
        return "below " + request.minUptimeRatio() + " uptime";
      }
    }
    return null;
  }

  private static String describe(Map<String, Integer> excluded) {
    List<String> parts = new ArrayList<>();
    excluded.forEach((why, n) -> parts.add(n + (n == 1 ? " node " : " nodes ") + why));
    return String.join("; ", parts);
  }

  /** One sentence from the offers that came closest: the furthest check they reached. */
  private static Refusal explain(PlacementRequest request, List<Rejection> rejections) {
    Map<Reason, List<Rejection>> byReason = new EnumMap<>(Reason.class);
    for (Rejection r : rejections) {
      byReason.computeIfAbsent(r.reason(), k -> new ArrayList<>()).add(r);
    }
    Reason furthest = byReason.keySet().stream().max(Comparator.naturalOrder()).orElseThrow();
    List<Rejection> closest = byReason.get(furthest);
    cheapestFirst(closest, 3);
    String what = models(request) + " offer" + (request.offerRef() != null ? "" : "s");
    String message =
        switch (furthest) {
          case NoSuchOffer, NoOfferForModel -> closest.get(0).detail();
          case CurrencyMismatch ->
              "no "
                  + models(request)
                  + " offer is priced in "
                  + request.currency()
                  + "; "
                  + closest.get(0).detail();
          case TenantNotAdmitted ->
              "no "
                  + models(request)
                  + " offer admits namespace "
                  + request.tenant()
                  + "; a provider must add it to an offer's tenants";
          case OfferSuspended -> "every " + what + " open to " + request.tenant() + " is suspended";
          case PriceAboveCap ->
              "no "
                  + models(request)
                  + " offer at or under "
                  + request.maxPrice().toPlainString()
                  + " "
                  + request.currency()
                  + "/h; cheapest is "
                  + closest.get(0).detail();
          case LeaseDurationOutOfRange ->
              "a lease of "
                  + Durations.format(request.duration())
                  + " is outside the limits of"
                  + " every "
                  + what
                  + " that qualify: "
                  + closest.get(0).detail();
          case NoQualifyingNode ->
              "no node of the qualifying " + what + " meets the constraints: " + details(closest);
          case InsufficientCapacity ->
              "not enough free "
                  + models(request)
                  + " GPUs for "
                  + request.blocks()
                  + " x "
                  + request.gpusPerBlock()
                  + " GPUs (each block on one node): "
                  + details(closest);
        };
    List<Rejection> dearer = byReason.get(Reason.PriceAboveCap);
    if (furthest.compareTo(Reason.PriceAboveCap) > 0 && dearer != null) {
      Rejection cheapest =
          dearer.stream()
              .min(Comparator.comparing((Rejection r) -> r.offer().price()))
              .orElseThrow();
      message += " (offers above the price cap start at " + cheapest.detail() + ")";
    }
    return new Refusal(furthest, message, List.copyOf(rejections));
  }

  /**
   * Moves the {@code k} cheapest rejections (then by the offer's "namespace/name") to the front, in
   * order: a message names no more than those, and counts the rest.
   */
  private static void cheapestFirst(List<Rejection> rejections, int k) {
    Comparator<Rejection> order =
        Comparator.comparing((Rejection r) -> r.offer().price())
            .thenComparing(r -> r.offer().id().toString());
    for (int i = 0; i < Math.min(k, rejections.size()); i++) {
      int min = i;
      for (int j = i + 1; j < rejections.size(); j++) {
        if (order.compare(rejections.get(j), rejections.get(min)) < 0) {
          min = j;
        }
      }
      java.util.Collections.swap(rejections, i, min);
    }
  }

  private static String details(List<Rejection> closest) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < Math.min(3, closest.size()); i++) {
      parts.add(closest.get(i).detail());
    }
    if (closest.size() > 3) {
      parts.add("and " + (closest.size() - 3) + " more");
    }
    return String.join("; ", parts);
  }

  private static String models(PlacementRequest request) {
    return String.join(" or ", request.models());
  }

  private static String price(OfferState offer) {
    return offer.price().toPlainString() + " " + offer.currency() + "/h";
  }

  private record Candidate(
      OfferState offer, int preference, double minUptime, int leftover, List<String> blockNodes) {}

  private static final Comparator<Candidate> ORDER =
      Comparator.comparing((Candidate c) -> c.offer.price(), BigDecimal::compareTo)
          .thenComparingInt(c -> c.preference)
          .thenComparing(c -> -c.minUptime)
          .thenComparingInt(c -> c.leftover)
          .thenComparing(c -> c.offer.id().namespace)
          .thenComparing(c -> c.offer.id().name);
}
