package io.gpumarket.market;

import io.gpumarket.market.Refusal.Reason;
import io.gpumarket.market.Refusal.Rejection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** The words of a refusal: why each offer was turned down, and the one sentence a person reads. */
final class Explanations {
  private Explanations() {}

  /** Why an offer failed one of the checks made on the offer alone (not on its nodes). */
  static Rejection offerCheck(OfferState offer, Reason reason, PlacementRequest request) {
    return switch (reason) {
      case CurrencyMismatch ->
          new Rejection(offer, reason, () -> offer.id() + " is priced in " + offer.currency());
      case TenantNotAdmitted ->
          new Rejection(
              offer, reason, () -> offer.id() + " does not admit namespace " + request.tenant());
      case OfferSuspended -> new Rejection(offer, reason, () -> offer.id() + " is suspended");
      case PriceAboveCap -> new Rejection(offer, reason, () -> price(offer) + " at " + offer.id());
      case LeaseDurationOutOfRange -> {
        Duration min = offer.minLease();
        boolean tooShort = min != null && request.duration().compareTo(min) < 0;
        yield new Rejection(
            offer,
            reason,
            () ->
                offer.id()
                    + (tooShort
                        ? " leases for at least " + Durations.format(min)
                        : " leases for at most " + Durations.format(offer.maxLease())));
      }
      default -> throw new IllegalArgumentException(reason + " is not decided by the offer alone");
    };
  }

  /**
   * An offer none of whose nodes may take part, with a count of the nodes by what rules them out.
   */
  static Rejection noQualifyingNode(
      OfferState offer, List<NodeState> seen, PlacementRequest request) {
    return new Rejection(
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
        });
  }

  /** An offer whose qualifying nodes have room for only {@code placed} of the blocks. */
  static Rejection insufficientCapacity(
      OfferState offer, PlacementRequest request, List<NodeState> usable, int placed) {
    int need = request.gpusPerBlock();
    int largest = 0;
    int free = 0;
    for (NodeState node : usable) {
      largest = Math.max(largest, node.freeGpus());
      free += node.freeGpus();
    }
    int freeGpus = free;
    int largestBlock = largest;
    return new Rejection(
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
                + ")");
  }

  /** Why a node of an offer cannot take part, or null if it can. */
  static String nodeProblem(NodeState node, OfferState offer, PlacementRequest request) {
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

  /**
   * One sentence from the offers that came closest.
   *
   * @param furthest the furthest check any offer reached
   * @param named the cheapest offers (then by "namespace/name") that reached it and no further, at
   *     most three, cheapest first
   * @param count how many offers reached it and no further
   * @param cheapestAboveCap when some offer got past the price cap's check, the cheapest offer
   *     turned down for its price, or null
   */
  static Refusal explain(
      PlacementRequest request,
      Reason furthest,
      List<Rejection> named,
      int count,
      Rejection cheapestAboveCap) {
    String what = models(request) + " offer" + (request.offerRef() != null ? "" : "s");
    String message =
        switch (furthest) {
          case NoSuchOffer, NoOfferForModel -> named.get(0).detail();
          case CurrencyMismatch ->
              "no "
                  + models(request)
                  + " offer is priced in "
                  + request.currency()
                  + "; "
                  + named.get(0).detail();
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
                  + named.get(0).detail();
          case LeaseDurationOutOfRange ->
              "a lease of "
                  + Durations.format(request.duration())
                  + " is outside the limits of"
                  + " every "
                  + what
                  + " that qualify: "
                  + named.get(0).detail();
          case NoQualifyingNode ->
              "no node of the qualifying "
                  + what
                  + " meets the constraints: "
                  + details(named, count);
          case InsufficientCapacity ->
              "not enough free "
                  + models(request)
                  + " GPUs for "
                  + request.blocks()
                  + " x "
                  + request.gpusPerBlock()
                  + " GPUs (each block on one node): "
                  + details(named, count);
        };
    if (cheapestAboveCap != null) {
      message += " (offers above the price cap start at " + cheapestAboveCap.detail() + ")";
    }
    return new Refusal(furthest, message);
  }

  private static String details(List<Rejection> named, int count) {
    List<String> parts = new ArrayList<>();
    for (Rejection r : named) {
      parts.add(r.detail());
    }
    if (count > named.size()) {
      parts.add("and " + (count - named.size()) + " more");
    }
    return String.join("; ", parts);
  }

  static String models(PlacementRequest request) {
    return String.join(" or ", request.models());
  }

  private static String price(OfferState offer) {
    return offer.price().toPlainString() + " " + offer.currency() + "/h";
  }
}
