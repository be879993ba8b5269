package io.gpumarket.market;

import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.market.Refusal.Reason;
import io.gpumarket.market.Refusal.Rejection;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
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
  private final Map<String, NodeState> nodes;

  /** Every offer, in the order given: refusals list rejections in this order. */
  private final List<Slot> slots;

  private final Map<String, Slot[]> byModel = new HashMap<>();
  private final Map<ObjectRef, Slot> byId = new HashMap<>();
  private final Map<String, List<Slot>> byNode = new HashMap<>();

  /** An offer and what the market keeps about it between decisions. */
  private static final class Slot {
    final int order;
    OfferState offer;

    /** Most free GPUs on one of its nodes that is up, uncordoned, of its provider and model. */
    int largestFree;

    Slot(int order, OfferState offer) {
      this.order = order;
      this.offer = offer;
    }
  }

  public Market(Iterable<NodeState> nodes, List<OfferState> offers) {
    this.nodes = new HashMap<>();
    for (NodeState n : nodes) {
      this.nodes.put(n.name(), n);
    }
    this.slots = new ArrayList<>(offers.size());
    Map<String, List<Slot>> models = new HashMap<>();
    for (OfferState offer : offers) {
      Slot slot = new Slot(slots.size(), offer);
      slots.add(slot);
      byId.putIfAbsent(offer.id(), slot);
      models.computeIfAbsent(offer.model(), k -> new ArrayList<>()).add(slot);
      for (String node : offer.nodes()) {
        byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(slot);
      }
      slot.largestFree = largestFree(offer);
    }
    Comparator<Slot> byPrice =
        Comparator.comparing((Slot s) -> s.offer.price()).thenComparingInt(s -> s.order);
    models.forEach(
        (model, list) -> {
          list.sort(byPrice);
          byModel.put(model, list.toArray(new Slot[0]));
        });
  }

  /** The state of a node now, or null if the market does not know it. */
  public NodeState node(String name) {
    return nodes.get(name);
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
    int total = 0;
    for (var e : placement.gpusByNode().entrySet()) {
      NodeState node = nodes.get(e.getKey());
      if (node == null) {
        throw new IllegalArgumentException("no node " + e.getKey());
      }
      nodes.put(node.name(), node.withHeld(node.heldGpus() + sign * e.getValue()));
      total += e.getValue();
    }
    Slot slot = byId.get(placement.offer().id());
    if (slot != null) {
      slot.offer = slot.offer.withLeased(slot.offer.leasedGpus() + sign * total);
    }
    for (String name : placement.gpusByNode().keySet()) {
      for (Slot s : byNode.getOrDefault(name, List.of())) {
        s.largestFree = largestFree(s.offer);
      }
    }
  }

  private int largestFree(OfferState offer) {
    int largest = 0;
    for (String name : offer.nodes()) {
      NodeState node = nodes.get(name);
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
      Slot[] offers = byModel.get(model);
      if (offers == null || models.indexOf(model) != preference) {
        continue;
      }
      for (Slot slot : offers) {
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
        Candidate candidate = fit(offer, preference, request, null);
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
      Candidate candidate = fit(offer, preference, request, rejections);
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
    List<Slot> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String model : request.models()) {
      Slot[] offers = byModel.get(model);
      if (offers != null && seen.add(model)) {
        out.addAll(Arrays.asList(offers));
      }
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
      OfferState offer, int preference, PlacementRequest request, List<Rejection> rejections) {
    int need = request.gpusPerBlock();
    boolean explain = rejections != null;
    List<NodeState> seen = explain ? new ArrayList<>(offer.nodes().size()) : null;
    List<NodeState> usable = new ArrayList<>();
    for (String name : offer.nodes()) {
      NodeState node = nodes.get(name);
      if (explain) {
        seen.add(node);
      }
      if (eligible(node, offer, request) && (explain || node.freeGpus() >= need)) {
        usable.add(node);
      }
    }
    if (usable.isEmpty()) {
      if (explain) {
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
    usable.sort(Comparator.comparingInt(NodeState::freeGpus).thenComparing(NodeState::name));
    int capBlocks = offer.remainingCap() / need;
    int blocksLeft = Math.min(request.blocks(), capBlocks);
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
    if (blockNodes.size() < request.blocks()) {
      if (explain) {
        int placed = blockNodes.size();
        int largest = usable.stream().mapToInt(NodeState::freeGpus).max().orElse(0);
        int free = usable.stream().mapToInt(NodeState::freeGpus).sum();
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
                        + largest
                        + ", "
                        + Math.min(free, offer.remainingCap())
                        + " GPUs free"
                        + (offer.gpuCap() != null && offer.remainingCap() < free
                            ? ", capped at " + offer.gpuCap() + " by the offer"
                            : "")
                        + ")"));
      }
      return null;
    }
    return new Candidate(offer, preference, minUptime, leftover, blockNodes);
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
    closest.sort(
        Comparator.comparing((Rejection r) -> r.offer().price())
            .thenComparing(r -> r.offer().id().toString()));
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
