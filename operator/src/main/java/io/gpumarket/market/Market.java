package io.gpumarket.market;

import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.api.v1alpha1.TierRequirement;
import io.gpumarket.market.Refusal.Reason;
import io.gpumarket.market.Refusal.Rejection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

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
 * it; one that keeps it longer brings it up to date with {@link #updateNode}, {@link #putOffer} and
 * {@link #removeOffer}. Not thread-safe.
 *
 * <p>Offers are indexed by model and sorted by price, so a decision looks only at offers of the
 * acceptable models and stops at the first price above the best candidate found; an offer whose
 * nodes have no free block large enough is skipped without looking at its nodes. A refusal walks
 * the offers under the price cap once, tallying how far each got, and above the cap stops at the
 * cheapest turned down for its price; only the offers its message names are explained. What these
 * walks read of nodes and offers is kept in arrays, apart from the records: at thousands of offers
 * a decision is bound by memory, not by arithmetic. {@link #decide} is the same decision made by
 * looking at every offer's record, and what {@link #place} must agree with.
 */
public final class Market {
  private static final byte LIVE = 1;
  private static final byte VERIFIED = 2;

  /** Node states by position; a node's position never changes, its state does. */
  private final NodeState[] nodes;

  /** What a decision reads of each node, by position: its free GPUs... */
  private final int[] free;

  /** ...whether it is up and uncordoned ({@link #LIVE}) and {@link #VERIFIED}... */
  private final byte[] bits;

  /** ...its tier's ordinal + 1 (0 for none), its region's number (-1 for none)... */
  private final byte[] tierOf;

  private final int[] regionOf;

  /** ...and its 24h uptime, NaN while unmeasured. */
  private final double[] uptime;

  private final Map<String, Integer> regionIds = new HashMap<>();
  private final Map<String, Integer> nodeIndex = new HashMap<>();
  private final Map<String, PriceIndex> byModel = new HashMap<>();
  private final Map<ObjectRef, Slot> byId = new HashMap<>();
  private final List<List<Slot>> slotsOfNode = new ArrayList<>();

  /**
   * A number for each tenant policy ({@link OfferState#admitsTenant()}, by identity): offers that
   * share one are asked once per decision, not once each.
   */
  private final Map<Predicate<String>, Integer> policies = new IdentityHashMap<>();

  private final List<Predicate<String>> policyById = new ArrayList<>();

  /** The order of the next offer: a full scan lists rejections in the order offers came. */
  private int nextOrder;

  /**
   * Changes since the market was built that may let it place what it refused: see {@link #gains}.
   */
  private long gains;

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
    int n = states.size();
    this.nodes = states.toArray(new NodeState[0]);
    free = new int[n];
    bits = new byte[n];
    tierOf = new byte[n];
    regionOf = new int[n];
    uptime = new double[n];
    for (int i = 0; i < n; i++) {
      learn(i);
    }
    Map<String, List<Slot>> models = new HashMap<>();
    for (OfferState offer : offers) {
      Slot slot = slot(offer);
      byId.putIfAbsent(offer.id(), slot);
      models.computeIfAbsent(offer.model(), k -> new ArrayList<>()).add(slot);
    }
    models.forEach((model, list) -> byModel.put(model, new PriceIndex(list)));
  }

  /** Copies what decisions read of the node at a position from its state. */
  private void learn(int at) {
    NodeState node = nodes[at];
    free[at] = node.freeGpus();
    bits[at] =
        (byte) ((node.ready() && node.schedulable() ? LIVE : 0) | (node.verified() ? VERIFIED : 0));
    tierOf[at] = (byte) (node.tier() == null ? 0 : node.tier().ordinal() + 1);
    regionOf[at] =
        node.region() == null
            ? -1
            : regionIds.computeIfAbsent(node.region(), k -> regionIds.size());
    uptime[at] = node.uptime24h() == null ? Double.NaN : node.uptime24h();
  }

  /** A new slot for an offer, linked to its nodes; not yet in any index. */
  private Slot slot(OfferState offer) {
    int[] positions = new int[offer.nodes().size()];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = nodeIndex.getOrDefault(offer.nodes().get(i), -1);
    }
    Slot slot = new Slot(nextOrder++, offer, positions);
    for (int position : positions) {
      if (position >= 0) {
        slotsOfNode.get(position).add(slot);
      }
    }
    slot.own = own(slot);
    summarize(slot);
    slot.policy = policy(offer);
    slot.largestFree = largestFree(slot);
    return slot;
  }

  /** Sums up the slot's nodes that may sell and are up; see {@link Slot#tier}. */
  private void summarize(Slot slot) {
    slot.tier = Slot.NONE_LIVE;
    slot.bestUptime = Double.NEGATIVE_INFINITY;
    slot.bestVerifiedUptime = Double.NEGATIVE_INFINITY;
    slot.anyVerified = false;
    for (int p : slot.own) {
      if ((bits[p] & LIVE) == 0) {
        continue;
      }
      if (slot.tier == Slot.NONE_LIVE) {
        slot.tier = tierOf[p];
        slot.region = regionOf[p];
      } else if (slot.tier != tierOf[p] || slot.region != regionOf[p]) {
        slot.tier = Slot.MIXED;
      }
      double up = Double.isNaN(uptime[p]) ? Double.NEGATIVE_INFINITY : uptime[p];
      slot.bestUptime = Math.max(slot.bestUptime, up);
      if ((bits[p] & VERIFIED) != 0) {
        slot.anyVerified = true;
        slot.bestVerifiedUptime = Math.max(slot.bestVerifiedUptime, up);
      }
    }
  }

  private int[] own(Slot slot) {
    OfferState offer = slot.offer;
    int[] own = new int[slot.nodes.length];
    int n = 0;
    for (int p : slot.nodes) {
      if (p >= 0
          && Objects.equals(nodes[p].provider(), offer.provider())
          && Objects.equals(nodes[p].model(), offer.model())) {
        own[n++] = p;
      }
    }
    return n == own.length ? own : Arrays.copyOf(own, n);
  }

  private int policy(OfferState offer) {
    return policies.computeIfAbsent(
        offer.admitsTenant(),
        k -> {
          policyById.add(k);
          return policyById.size() - 1;
        });
  }

  /** The state of a node now, or null if the market does not know it. */
  public NodeState node(String name) {
    Integer at = nodeIndex.get(name);
    return at == null ? null : nodes[at];
  }

  /** The state of an offer now, or null if the market does not know it. */
  public OfferState offer(ObjectRef id) {
    Slot slot = byId.get(id);
    return slot == null ? null : slot.offer;
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
    if (sign < 0) {
      gains++;
    }
    List<String> blocks = placement.blockNodes();
    int[] positions = new int[blocks.size()];
    for (int i = 0; i < positions.length; i++) {
      Integer at = nodeIndex.get(blocks.get(i));
      if (at == null) {
        throw new IllegalArgumentException("no node " + blocks.get(i));
      }
      positions[i] = at;
    }
    int total = positions.length * placement.gpusPerBlock();
    for (int i = 0; i < positions.length; ) {
      int at = positions[i];
      int run = 1; // blocks on one node come together: one change for them all
      while (i + run < positions.length && positions[i + run] == at) {
        run++;
      }
      i += run;
      int before = free[at];
      nodes[at] = nodes[at].withHeld(nodes[at].heldGpus() + sign * run * placement.gpusPerBlock());
      free[at] = nodes[at].freeGpus();
      for (Slot s : slotsOfNode.get(at)) {
        freed(s, at, before);
      }
    }
    Slot slot = byId.get(placement.offer().id());
    if (slot != null) {
      slot.offer = slot.offer.withLeased(slot.offer.leasedGpus() + sign * total);
      slot.index.update(slot);
    }
  }

  /**
   * Brings a slot's largest free block up to date after one of its nodes went from {@code before}
   * free GPUs to what it has now, looking at its other nodes only when that node held the largest.
   */
  private void freed(Slot slot, int node, int before) {
    int room = slot.room();
    int now = free[node];
    if (now > slot.largestFree) {
      if ((bits[node] & LIVE) != 0 && contains(slot.own, node)) {
        slot.largestFree = now;
      }
    } else if (now < before && before == slot.largestFree) {
      slot.largestFree = largestFree(slot);
    }
    if (slot.room() != room) {
      slot.index.update(slot);
    }
  }

  private static boolean contains(int[] positions, int position) {
    for (int p : positions) {
      if (p == position) {
        return true;
      }
    }
    return false;
  }

  /**
   * Replaces the state of a node the market knows: its ledger, health, tier, region, owner.
   *
   * @return false, changing nothing, if the market does not know the node: offers that select it by
   *     name would not see it, so the caller builds a new market
   */
  public boolean updateNode(NodeState state) {
    Integer at = nodeIndex.get(state.name());
    if (at == null) {
      return false;
    }
    NodeState before = nodes[at];
    int freeBefore = free[at];
    byte bitsBefore = bits[at];
    nodes[at] = state;
    learn(at);
    if (free[at] > freeBefore
        || (bits[at] & ~bitsBefore) != 0
        || !Objects.equals(before.tier(), state.tier())
        || !Objects.equals(before.region(), state.region())
        || !Objects.equals(before.uptime24h(), state.uptime24h())) {
      gains++;
    }
    boolean sameOwner =
        Objects.equals(before.provider(), state.provider())
            && Objects.equals(before.model(), state.model());
    for (Slot s : slotsOfNode.get(at)) {
      if (!sameOwner) {
        s.own = own(s);
      }
      summarize(s);
      s.index.copy(s.position);
    }
    refreshSlotsOf(at);
    return true;
  }

  private void refreshSlotsOf(int position) {
    for (Slot s : slotsOfNode.get(position)) {
      s.largestFree = largestFree(s);
      s.index.update(s);
    }
  }

  /**
   * Adds an offer, or replaces the offer of the same id (ids are unique in a market kept this way).
   * Nodes it selects that the market does not know are skipped, as when built.
   */
  public void putOffer(OfferState offer) {
    gains++;
    if (policies.size() > 2 * byId.size() + 64) {
      // Policies of offers long replaced: number the live ones again.
      policies.clear();
      policyById.clear();
      for (PriceIndex index : byModel.values()) {
        for (Slot s : index.slots) { // every offer, a second one of the same id included
          s.policy = policy(s.offer);
          index.copy(s.position);
        }
      }
    }
    Slot old = byId.get(offer.id());
    if (old != null
        && old.offer.model().equals(offer.model())
        && old.offer.price().compareTo(offer.price()) == 0
        && old.offer.nodes().equals(offer.nodes())) {
      // Same nodes, same place in the index: only what the offer itself says changes.
      old.offer = offer;
      old.own = own(old);
      summarize(old);
      old.policy = policy(offer);
      old.largestFree = largestFree(old);
      old.index.copy(old.position);
      old.index.update(old);
      return;
    }
    removeOffer(offer.id());
    Slot slot = slot(offer);
    byId.put(offer.id(), slot);
    reindex(offer.model(), slot, null);
  }

  /** Takes an offer off the market; nothing if the market does not know it. */
  public void removeOffer(ObjectRef id) {
    Slot slot = byId.remove(id);
    if (slot == null) {
      return;
    }
    for (int position : slot.nodes) {
      if (position >= 0) {
        slotsOfNode.get(position).remove(slot);
      }
    }
    reindex(slot.offer.model(), null, slot);
  }

  private void reindex(String model, Slot added, Slot removed) {
    PriceIndex old = byModel.get(model);
    List<Slot> members = new ArrayList<>(old == null ? List.of() : old.inOrder);
    members.remove(removed);
    if (added != null) {
      members.add(added); // it came last: the list stays in order
    }
    if (members.isEmpty()) {
      byModel.remove(model);
    } else {
      byModel.put(model, new PriceIndex(members));
    }
  }

  private NodeState at(int position) {
    return position < 0 ? null : nodes[position];
  }

  private int largestFree(Slot slot) {
    int largest = 0;
    for (int position : slot.own) {
      if ((bits[position] & LIVE) != 0) {
        largest = Math.max(largest, free[position]);
      }
    }
    return largest;
  }

  /**
   * How many changes so far may have let this market place a request it refused: GPUs given back, a
   * node with more free GPUs, back up, newly verified or otherwise changed in what requests may ask
   * of it, an offer added or changed. Holds take GPUs and count for nothing: a refusal made with
   * the same count stands.
   */
  public long gains() {
    return gains;
  }

  public Decision place(PlacementRequest request) {
    if (request.offerRef() != null) {
      return decide(request);
    }
    Ask ask = new Ask(request);
    Candidate best = cheapest(ask);
    if (best != null) {
      return new Placement(
          best.offer(), best.offer().model(), best.blockNodes(), request.gpusPerBlock());
    }
    return refuse(ask);
  }

  /**
   * A request, and what a decision works out once from it: which tiers and regions it accepts, each
   * tenant policy's answer (a policy may look a namespace up) and the verdict on each {@link
   * PriceIndex.Kind} of offer, each asked at most once however many offers share them.
   */
  private final class Ask {
    /** A verdict's bits: the offer-level check failed before the price's, or none... */
    static final int PASSES = 15;

    /** ...whether the lease limits refuse the request's duration... */
    static final int DURATION = 16;

    /** ...and whether the offer's nodes qualify: all may, none may, by uptime, or each asked. */
    static final int NODES = 96;

    static final int ELIGIBLE = 0;
    static final int INELIGIBLE = 32;
    static final int BY_UPTIME = 64;
    static final int EACH_NODE = 96;

    final PlacementRequest request;
    final int need;
    final boolean[] tierOk = new boolean[Tier.values().length + 1];

    /** By region number; null when any region will do. */
    final boolean[] regionOk;

    final double minUptime;
    final byte required;
    private final byte[] admitted = new byte[policyById.size()];
    private PriceIndex judged;
    private int[] verdicts;

    Ask(PlacementRequest request) {
      this.request = request;
      need = request.gpusPerBlock();
      TierRequirement tier = request.tier();
      tierOk[0] = tier.accepts(null);
      for (Tier t : Tier.values()) {
        tierOk[t.ordinal() + 1] = tier.accepts(t);
      }
      if (request.regions().isEmpty()) {
        regionOk = null;
      } else {
        regionOk = new boolean[regionIds.size()];
        for (String region : request.regions()) {
          Integer id = regionIds.get(region);
          if (id != null) {
            regionOk[id] = true;
          }
        }
      }
      minUptime = request.minUptimeRatio() == null ? Double.NaN : request.minUptimeRatio();
      required = (byte) (LIVE | (request.requireVerified() ? VERIFIED : 0));
    }

    /** The verdict on the offer at a position of an index, judged once per kind. */
    int verdict(PriceIndex offers, int i) {
      if (judged != offers) {
        judged = offers;
        verdicts = new int[offers.kinds.size()];
      }
      int k = offers.kind[i];
      int v = verdicts[k];
      if (v == 0) {
        v = judge(offers.kinds.get(k)) + 1; // 0 stands for not judged yet
        verdicts[k] = v;
      }
      return v - 1;
    }

    private int judge(PriceIndex.Kind k) {
      Reason before =
          !k.currency().equals(request.currency())
              ? Reason.CurrencyMismatch
              : !admits(k.policy())
                  ? Reason.TenantNotAdmitted
                  : k.suspended() ? Reason.OfferSuspended : null;
      Duration duration = request.duration();
      boolean outside =
          duration != null
              && ((k.minLease() != null && duration.compareTo(k.minLease()) < 0)
                  || (k.maxLease() != null && duration.compareTo(k.maxLease()) > 0));
      int nodes;
      if (k.tier() == Slot.NONE_LIVE) {
        nodes = INELIGIBLE;
      } else if (k.tier() == Slot.MIXED) {
        nodes = EACH_NODE;
      } else if (!tierOk[k.tier()]
          || (regionOk != null && (k.region() < 0 || !regionOk[k.region()]))
          || ((required & VERIFIED) != 0 && !k.anyVerified())) {
        nodes = INELIGIBLE;
      } else {
        nodes = Double.isNaN(minUptime) ? ELIGIBLE : BY_UPTIME;
      }
      return (before == null ? PASSES : before.ordinal()) | (outside ? DURATION : 0) | nodes;
    }

    private boolean admits(int policy) {
      byte known = admitted[policy];
      if (known == 0) {
        known = policyById.get(policy).test(request.tenant()) ? (byte) 1 : (byte) 2;
        admitted[policy] = known;
      }
      return known == 1;
    }

    /**
     * The first check the offer at a position fails, given its verdict: one made on the offer
     * alone, or null when only its nodes are left to look at.
     */
    Reason failure(int verdict, int i, int capEnd) {
      int before = verdict & PASSES;
      if (before != PASSES) {
        return REASONS[before];
      }
      if (i >= capEnd) {
        return Reason.PriceAboveCap;
      }
      return (verdict & DURATION) != 0 ? Reason.LeaseDurationOutOfRange : null;
    }

    /** Whether one of the nodes of the offer at a position can take part, given its verdict. */
    boolean anyEligible(int verdict, PriceIndex offers, int i) {
      switch (verdict & NODES) {
        case ELIGIBLE:
          return true;
        case INELIGIBLE:
          return false;
        case BY_UPTIME:
          return ((required & VERIFIED) != 0 ? offers.bestVerifiedUptime[i] : offers.bestUptime[i])
              >= minUptime;
        default:
          for (int position : offers.own[i]) {
            if (eligible(position)) {
              return true;
            }
          }
          return false;
      }
    }

    /** {@link FullScan#eligible} for a node known to be of the offer's provider and model. */
    boolean eligible(int node) {
      return (bits[node] & required) == required
          && tierOk[tierOf[node]]
          && (regionOk == null || (regionOf[node] >= 0 && regionOk[regionOf[node]]))
          && (Double.isNaN(minUptime) || uptime[node] >= minUptime);
    }
  }

  private static final Reason[] REASONS = Reason.values();

  /**
   * How many GPUs a request could ever get here: the healthy GPUs, in whole blocks, of the live
   * nodes that the offers it may use (its models, currency and price cap, a tenant admitted, the
   * lease limits, tier, region, uptime and verification, room for its whole gang on a free fleet)
   * could sell it, each node counted once, whatever is held on them now. A batch decided
   * fewest-first places more of it ({@link #placeBatch}).
   */
  public int reach(PlacementRequest request) {
    Ask ask = new Ask(request);
    java.util.BitSet counted = new java.util.BitSet(nodes.length);
    int[] eligible = new int[0];
    int gpus = 0;
    List<String> models = request.models();
    for (int preference = 0; preference < models.size(); preference++) {
      PriceIndex offers = sellingIn(request, preference);
      if (offers == null) {
        continue;
      }
      int capEnd = offers.firstAbove(request.maxPrice());
      for (int at = 0; at < capEnd; at++) {
        Slot slot = offers.slots[at];
        if (request.offerRef() != null && !request.offerRef().equals(slot.offer.id())) {
          continue;
        }
        int verdict = ask.verdict(offers, at);
        if (ask.failure(verdict, at, capEnd) != null || !ask.anyEligible(verdict, offers, at)) {
          continue;
        }
        // An offer that could not take the whole gang even with all its GPUs free adds nothing.
        Integer cap = slot.offer.gpuCap();
        if (cap != null && cap < request.totalGpus()) {
          continue;
        }
        if (eligible.length < slot.own.length) {
          eligible = new int[slot.own.length];
        }
        int found = 0;
        int blocks = 0;
        for (int position : slot.own) {
          if (ask.eligible(position)) {
            eligible[found++] = position;
            blocks += nodes[position].healthyGpus() / ask.need;
          }
        }
        if (blocks < request.blocks()) {
          continue;
        }
        for (int i = 0; i < found; i++) {
          if (!counted.get(eligible[i])) {
            counted.set(eligible[i]);
            gpus += nodes[eligible[i]].healthyGpus() / ask.need * ask.need;
          }
        }
      }
    }
    return gpus;
  }

  /**
   * Decides requests that wait together, holding each placement in this market: those that could
   * get the fewest GPUs ({@link #reach}) first, then the larger, then in the order given. Placed in
   * the order they came, a request that could go to many hosts takes the cheapest, which may be the
   * only ones another request can use: at size L of the benchmark, arrival order placed 96.7 % of
   * the placeable GPUs and this order 99.8 %, at the same cost.
   *
   * @param reach each request's {@link #reach}, computed once by a caller that keeps it
   * @return the decisions, in the order of the requests
   */
  public List<Decision> placeBatch(List<PlacementRequest> requests, int[] reach) {
    Decision[] decisions = new Decision[requests.size()];
    for (int i : batchOrder(requests, reach)) {
      Decision d = place(requests.get(i));
      if (d instanceof Placement p) {
        hold(p);
      }
      decisions[i] = d;
    }
    return Arrays.asList(decisions);
  }

  /** The order in which {@link #placeBatch} decides requests: positions in the list. */
  public static int[] batchOrder(List<PlacementRequest> requests, int[] reach) {
    Integer[] order = new Integer[requests.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        Comparator.<Integer>comparingInt(i -> reach[i])
            .thenComparingInt(i -> -requests.get(i).totalGpus())
            .thenComparingInt(i -> i));
    return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
  }

  /**
   * Whether a placement decided earlier for this request can still be held as it is: its offer is
   * still on the market with room under its cap, and each of its nodes is live, still meets the
   * request and has the GPUs free.
   */
  public boolean fits(Placement placement, PlacementRequest request) {
    Slot slot = byId.get(placement.offer().id());
    if (slot == null
        || placement.blockNodes().size() != request.blocks()
        || placement.gpusPerBlock() != request.gpusPerBlock()
        || !request.models().contains(slot.offer.model())
        || slot.offer.price().compareTo(placement.offer().price()) != 0
        || slot.offer.remainingCap() < placement.blockNodes().size() * placement.gpusPerBlock()) {
      return false;
    }
    Ask ask = new Ask(request);
    PriceIndex offers = slot.index;
    if (ask.failure(
            ask.verdict(offers, slot.position),
            slot.position,
            offers.firstAbove(request.maxPrice()))
        != null) {
      return false;
    }
    for (var e : placement.gpusByNode().entrySet()) {
      Integer at = nodeIndex.get(e.getKey());
      if (at == null || !contains(slot.own, at) || !ask.eligible(at) || free[at] < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The offers of the request's model at a preference, if any sell in its currency; null for a
   * model listed twice (its first place counts) or none.
   */
  private PriceIndex sellingIn(PlacementRequest request, int preference) {
    List<String> models = request.models();
    PriceIndex offers = byModel.get(models.get(preference));
    return offers == null
            || models.indexOf(models.get(preference)) != preference
            || !offers.currencies.containsKey(request.currency())
        ? null
        : offers;
  }

  /**
   * The best candidate among offers of the acceptable models, visiting them by price and stopping
   * at the first one dearer than the best found; null if none fits. Records no rejections.
   */
  private Candidate cheapest(Ask ask) {
    PlacementRequest request = ask.request;
    Candidate best = null;
    Slot bestSlot = null;
    List<String> models = request.models();
    for (int preference = 0; preference < models.size(); preference++) {
      PriceIndex offers = sellingIn(request, preference);
      if (offers == null) {
        continue;
      }
      int capEnd = offers.firstAbove(request.maxPrice());
      for (int at = offers.next(0, ask.need);
          at >= 0 && at < capEnd;
          at = offers.next(at + 1, ask.need)) {
        Slot slot = offers.slots[at];
        if (best != null && slot.offer.price().compareTo(best.offer().price()) > 0) {
          break;
        }
        int verdict = ask.verdict(offers, at);
        if (ask.failure(verdict, at, capEnd) != null
            || !ask.anyEligible(verdict, offers, at)
            || slot.offer.remainingCap() / ask.need < request.blocks()) {
          continue;
        }
        Candidate candidate = bestFit(slot, preference, ask, false);
        if (candidate != null && (best == null || Candidate.order(candidate, best) < 0)) {
          best = candidate;
          bestSlot = slot;
        }
      }
    }
    // Only the winner's blocks are written out.
    return best == null ? null : bestFit(bestSlot, best.preference(), ask, true);
  }

  /**
   * {@link #fit} without words: every block on the offer's nodes, best-fit, or null.
   *
   * @param withBlocks whether to list the node of each block, or only to rank the candidate
   */
  private Candidate bestFit(Slot slot, int preference, Ask ask, boolean withBlocks) {
    int need = ask.need;
    int[] usable = new int[slot.own.length];
    int n = 0;
    int room = 0;
    for (int position : slot.own) {
      if (free[position] >= need && ask.eligible(position)) {
        usable[n++] = position;
        room += free[position] / need;
      }
    }
    int blocks = ask.request.blocks();
    int blocksLeft = Math.min(blocks, slot.offer.remainingCap() / need);
    if (Math.min(room, blocksLeft) < blocks) {
      return null;
    }
    for (int i = 1; i < n; i++) { // fewest free GPUs first, then by name: few nodes, in place
      int p = usable[i];
      int j = i - 1;
      while (j >= 0
          && (free[usable[j]] > free[p]
              || (free[usable[j]] == free[p]
                  && nodes[usable[j]].name().compareTo(nodes[p].name()) > 0))) {
        usable[j + 1] = usable[j];
        j--;
      }
      usable[j + 1] = p;
    }
    List<String> blockNodes = withBlocks ? new ArrayList<>(blocks) : null;
    double minUptime = Double.MAX_VALUE;
    int leftover = 0;
    for (int i = 0; i < n && blocksLeft > 0; i++) {
      int p = usable[i];
      int take = Math.min(free[p] / need, blocksLeft);
      for (int b = 0; withBlocks && b < take; b++) {
        blockNodes.add(nodes[p].name());
      }
      blocksLeft -= take;
      leftover += free[p] - take * need;
      minUptime = Math.min(minUptime, Double.isNaN(uptime[p]) ? 0 : uptime[p]);
    }
    return new Candidate(slot.offer, preference, minUptime, leftover, blockNodes);
  }

  /**
   * Why no offer of the acceptable models can take the request, in the words {@link #decide} would
   * use, without explaining every offer: each offer's furthest check is tallied, and only the
   * offers the message names are explained.
   */
  private Decision refuse(Ask ask) {
    PlacementRequest request = ask.request;
    Tally tally = new Tally();
    boolean anyOffer = false;
    List<String> models = request.models();
    for (int preference = 0; preference < models.size(); preference++) {
      PriceIndex offers = byModel.get(models.get(preference));
      if (offers != null && models.indexOf(models.get(preference)) == preference) {
        anyOffer = true;
        tally(offers, ask, tally);
      }
    }
    if (!anyOffer) {
      return new Refusal(Reason.NoOfferForModel, "no offer sells " + Explanations.models(request));
    }
    Reason furthest = tally.furthest();
    int f = furthest.ordinal();
    List<Rejection> named = new ArrayList<>(3);
    for (int i = 0; i < Math.min(3, tally.counts[f]); i++) {
      Slot slot = tally.cheapest[f][i];
      Rejection rejection = FullScan.check(slot, request);
      if (rejection == null) {
        List<Rejection> out = new ArrayList<>(1);
        if (FullScan.fit(slot, 0, request, out, this::at) != null) {
          return decide(request); // cannot happen: cheapest() found no candidate
        }
        rejection = out.get(0);
      }
      named.add(rejection);
    }
    Rejection aboveCap =
        furthest.compareTo(Reason.PriceAboveCap) > 0 && tally.cheapestAboveCap != null
            ? FullScan.check(tally.cheapestAboveCap, request)
            : null;
    return Explanations.explain(request, furthest, named, tally.counts[f], aboveCap);
  }

  /**
   * Tallies one model's offers. Under the cap every offer counts: a message says how many reached
   * the furthest check. Above it none gets past {@link Reason#PriceAboveCap}, so the walk stops
   * after the cheapest that gets that far (and its equals in price, for the tie by name).
   */
  private void tally(PriceIndex offers, Ask ask, Tally tally) {
    int n = offers.slots.length;
    if (!offers.currencies.containsKey(ask.request.currency())) {
      // Each fails the first check: a message names only the cheapest.
      int i = 0;
      while (i < n && (i < 3 || offers.rank[i] == offers.rank[2])) {
        tally.note(Reason.CurrencyMismatch, offers, i++);
      }
      tally.counts[Reason.CurrencyMismatch.ordinal()] += n - i;
      return;
    }
    int capEnd = offers.firstAbove(ask.request.maxPrice());
    for (int i = 0; i < capEnd; i++) {
      int verdict = ask.verdict(offers, i);
      Reason reason = ask.failure(verdict, i, capEnd);
      if (reason == null) {
        reason =
            ask.anyEligible(verdict, offers, i)
                ? Reason.InsufficientCapacity
                : Reason.NoQualifyingNode;
      }
      tally.note(reason, offers, i);
    }
    int cheapestAboveCap = -1;
    for (int i = capEnd; i < n; i++) {
      if (cheapestAboveCap >= 0 && offers.rank[i] > offers.rank[cheapestAboveCap]) {
        break;
      }
      Reason reason = ask.failure(ask.verdict(offers, i), i, capEnd);
      tally.note(reason, offers, i);
      if (reason == Reason.PriceAboveCap) {
        cheapestAboveCap = i;
        tally.aboveCap(offers, i);
      }
    }
  }

  /**
   * The same decision made by looking at every offer of the acceptable models through its record,
   * in the order given: what {@link #place} must agree with.
   */
  Decision decide(PlacementRequest request) {
    return FullScan.decide(request, candidates(request), this::at);
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
    List<Slot> out = new ArrayList<>();
    for (String model : models) {
      PriceIndex offers = byModel.get(model);
      if (offers != null) {
        out.addAll(offers.inOrder);
      }
    }
    out.sort(Comparator.comparingInt(s -> s.order));
    return out;
  }
}
