package io.gpumarket.market;

import io.gpumarket.market.Refusal.Reason;
import io.gpumarket.market.Refusal.Rejection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * A decision made by looking at every candidate offer through its record, one after the other, and
 * explaining each one turned down. {@link Market} decides a request for a named offer so, and
 * explains with it the offers a refusal names; for any other request its indexes must reach the
 * same decision, which is what its tests hold it to.
 */
final class FullScan {
  private FullScan() {}

  /**
   * Looks at every offer the request could use, in the order given: the winner, or why there is
   * none.
   *
   * @param candidates the named offer, or the offers of the acceptable models
   */
  static Decision decide(
      PlacementRequest request, List<Slot> candidates, IntFunction<NodeState> nodeAt) {
    List<Rejection> rejections = new ArrayList<>();
    Candidate best = null;
    boolean anyOfferForModel = false;
    for (Slot slot : candidates) {
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
                          + Explanations.models(request)));
        }
        continue;
      }
      anyOfferForModel = true;
      Rejection rejection = check(slot, request);
      if (rejection != null) {
        rejections.add(rejection);
        continue;
      }
      Candidate candidate = fit(slot, preference, request, rejections, nodeAt);
      if (candidate != null && (best == null || Candidate.order(candidate, best) < 0)) {
        best = candidate;
      }
    }
    if (best != null) {
      return new Placement(
          best.offer(), best.offer().model(), best.blockNodes(), request.gpusPerBlock());
    }
    if (request.offerRef() != null && rejections.isEmpty()) {
      return new Refusal(Reason.NoSuchOffer, "offer " + request.offerRef() + " does not exist");
    }
    if (!anyOfferForModel && rejections.isEmpty()) {
      return new Refusal(Reason.NoOfferForModel, "no offer sells " + Explanations.models(request));
    }
    Map<Reason, List<Rejection>> byReason = new EnumMap<>(Reason.class);
    for (Rejection r : rejections) {
      byReason.computeIfAbsent(r.reason(), k -> new ArrayList<>()).add(r);
    }
    Reason furthest = byReason.keySet().stream().max(Comparator.naturalOrder()).orElseThrow();
    List<Rejection> closest = byReason.get(furthest);
    closest.sort(CHEAPEST);
    List<Rejection> dearer = byReason.get(Reason.PriceAboveCap);
    Rejection aboveCap =
        furthest.compareTo(Reason.PriceAboveCap) > 0 && dearer != null
            ? dearer.stream().min(CHEAPEST).orElseThrow()
            : null;
    return Explanations.explain(
        request,
        furthest,
        closest.subList(0, Math.min(3, closest.size())),
        closest.size(),
        aboveCap);
  }

  /** Cheapest first, then by "namespace/name": the order in which a refusal names offers. */
  private static final Comparator<Rejection> CHEAPEST =
      Comparator.comparing((Rejection r) -> r.offer().price())
          .thenComparing(r -> r.offer().id().toString());

  /** The offer-level checks on the offer's record: why it is turned down, or null. */
  static Rejection check(Slot slot, PlacementRequest request) {
    OfferState offer = slot.offer;
    Reason reason = null;
    if (!offer.currency().equals(request.currency())) {
      reason = Reason.CurrencyMismatch;
    } else if (!offer.admitsTenant().test(request.tenant())) {
      reason = Reason.TenantNotAdmitted;
    } else if (offer.suspended()) {
      reason = Reason.OfferSuspended;
    } else if (request.maxPrice() != null && offer.price().compareTo(request.maxPrice()) > 0) {
      reason = Reason.PriceAboveCap;
    } else if (request.duration() != null
        && ((offer.minLease() != null && request.duration().compareTo(offer.minLease()) < 0)
            || (offer.maxLease() != null && request.duration().compareTo(offer.maxLease()) > 0))) {
      reason = Reason.LeaseDurationOutOfRange;
    }
    return reason == null ? null : Explanations.offerCheck(offer, reason, request);
  }

  /**
   * Places every block of the request on the offer's nodes, or records why it cannot (unless {@code
   * rejections} is null). The words of a rejection are put together only if it is read.
   */
  static Candidate fit(
      Slot slot,
      int preference,
      PlacementRequest request,
      List<Rejection> rejections,
      IntFunction<NodeState> nodeAt) {
    OfferState offer = slot.offer;
    int need = request.gpusPerBlock();
    boolean explain = rejections != null;
    List<NodeState> usable = new ArrayList<>();
    for (int position : slot.nodes) {
      NodeState node = position < 0 ? null : nodeAt.apply(position);
      if (eligible(node, offer, request) && (explain || node.freeGpus() >= need)) {
        usable.add(node);
      }
    }
    if (usable.isEmpty()) {
      if (explain) {
        List<NodeState> seen = new ArrayList<>(slot.nodes.length);
        for (int position : slot.nodes) {
          seen.add(position < 0 ? null : nodeAt.apply(position));
        }
        rejections.add(Explanations.noQualifyingNode(offer, seen, request));
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
        rejections.add(
            Explanations.insufficientCapacity(offer, request, usable, Math.min(room, blocksLeft)));
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

  /** Whether a node of an offer can take part: {@link Explanations#nodeProblem} is null. */
  static boolean eligible(NodeState node, OfferState offer, PlacementRequest request) {
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
}
