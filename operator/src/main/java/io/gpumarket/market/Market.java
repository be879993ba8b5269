package io.gpumarket.market;

import io.gpumarket.market.Refusal.Reason;
import io.gpumarket.market.Refusal.Rejection;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 */
public final class Market {
  private final Map<String, NodeState> nodes;
  private final List<OfferState> offers;

  public Market(Iterable<NodeState> nodes, List<OfferState> offers) {
    this.nodes = new TreeMap<>();
    for (NodeState n : nodes) {
      this.nodes.put(n.name(), n);
    }
    this.offers = offers;
  }

  public Decision place(PlacementRequest request) {
    List<Rejection> rejections = new ArrayList<>();
    Candidate best = null;
    boolean anyOfferForModel = false;
    for (OfferState offer : offers) {
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
                  "offer " + offer.id() + " sells " + offer.model() + ", not " + models(request)));
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

  /** The offer-level checks, in the order a person would fix them. */
  private Rejection check(OfferState offer, PlacementRequest request) {
    if (!offer.currency().equals(request.currency())) {
      return new Rejection(
          offer, Reason.CurrencyMismatch, offer.id() + " is priced in " + offer.currency());
    }
    if (!offer.admitsTenant().test(request.tenant())) {
      return new Rejection(
          offer,
          Reason.TenantNotAdmitted,
          offer.id() + " does not admit namespace " + request.tenant());
    }
    if (offer.suspended()) {
      return new Rejection(offer, Reason.OfferSuspended, offer.id() + " is suspended");
    }
    if (request.maxPrice() != null && offer.price().compareTo(request.maxPrice()) > 0) {
      return new Rejection(offer, Reason.PriceAboveCap, price(offer) + " at " + offer.id());
    }
    if (request.duration() != null) {
      if (offer.minLease() != null && request.duration().compareTo(offer.minLease()) < 0) {
        return new Rejection(
            offer,
            Reason.LeaseDurationOutOfRange,
            offer.id() + " leases for at least " + Durations.format(offer.minLease()));
      }
      if (offer.maxLease() != null && request.duration().compareTo(offer.maxLease()) > 0) {
        return new Rejection(
            offer,
            Reason.LeaseDurationOutOfRange,
            offer.id() + " leases for at most " + Durations.format(offer.maxLease()));
      }
    }
    return null;
  }

  /** Places every block of the request on the offer's nodes, or records why it cannot. */
  private Candidate fit(
      OfferState offer, int preference, PlacementRequest request, List<Rejection> rejections) {
    int need = request.gpusPerBlock();
    Map<String, Integer> excluded = new TreeMap<>();
    List<NodeState> usable = new ArrayList<>();
    for (String name : offer.nodes()) {
      NodeState node = nodes.get(name);
      String why = nodeProblem(node, offer, request);
      if (why != null) {
        excluded.merge(why, 1, Integer::sum);
      } else {
        usable.add(node);
      }
    }
    if (usable.isEmpty()) {
      String detail =
          offer.id() + (excluded.isEmpty() ? " selects no GpuNode" : ": " + describe(excluded));
      rejections.add(new Rejection(offer, Reason.NoQualifyingNode, detail));
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
      int largest = usable.stream().mapToInt(NodeState::freeGpus).max().orElse(0);
      int free = usable.stream().mapToInt(NodeState::freeGpus).sum();
      String detail =
          offer.id()
              + " has room for "
              + blockNodes.size()
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
              + ")";
      rejections.add(new Rejection(offer, Reason.InsufficientCapacity, detail));
      return null;
    }
    return new Candidate(offer, preference, minUptime, leftover, blockNodes);
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
