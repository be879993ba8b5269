package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.api.v1alpha1.TierRequirement;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.PlacementRequest;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The optimum bound on fleets small enough to know the true optimum: by hand, and by trying every
 * integer placement.
 */
class PlacementBoundTest {
  static NodeState node(String name, int healthy) {
    return new NodeState(
        name, name, "p", Tier.DATACENTER, "r", "h100", healthy, 0, true, true, true, 1.0);
  }

  static OfferState offer(String name, String price, Integer cap, String... nodes) {
    return new OfferState(
        new ObjectRef("p", name),
        "p",
        "h100",
        List.of(nodes),
        cap,
        0,
        new BigDecimal(price),
        "USD",
        null,
        null,
        t -> true,
        false);
  }

  static PlacementRequest job(int blocks, int perBlock) {
    return new PlacementRequest(
        "team",
        List.of("h100"),
        TierRequirement.ANY,
        Set.of(),
        null,
        false,
        blocks,
        perBlock,
        null,
        "USD",
        null,
        null);
  }

  static PlacementBound bound(List<NodeState> nodes, OfferState... offers) {
    return new PlacementBound(nodes, List.of(offers), t -> t);
  }

  @Test
  void aBlockStaysOnOneNode() {
    // Two 3-GPU hosts hold one 2-GPU block each, not three between them.
    PlacementBound b =
        bound(List.of(node("a", 3), node("b", 3)), offer("o", "1.00", null, "a", "b"));
    assertThat(b.maxGpus(List.of(job(1, 2), job(1, 2), job(1, 2)))).isEqualTo(4);
  }

  @Test
  void largerBlocksCountAgainstTheRoomForSmallerOnes() {
    // On a host with 7 healthy GPUs, a 4-GPU block leaves room for one 2-GPU block, not 1.5.
    PlacementBound b = bound(List.of(node("a", 7)), offer("o", "1.00", null, "a"));
    assertThat(b.maxGpus(List.of(job(1, 4), job(1, 4), job(1, 2), job(1, 2)))).isEqualTo(6);
  }

  @Test
  void aGangNoSingleOfferCanHoldTakesNothing() {
    PlacementBound split =
        bound(
            List.of(node("a", 8), node("b", 8)),
            offer("oa", "1.00", null, "a"),
            offer("ob", "1.00", null, "b"));
    assertThat(split.maxGpus(List.of(job(2, 8)))).isZero();

    PlacementBound capped = bound(List.of(node("a", 8)), offer("o", "1.00", 4, "a"));
    assertThat(capped.maxGpus(List.of(job(1, 8)))).isZero();
    assertThat(capped.maxGpus(List.of(job(1, 4)))).isEqualTo(4);
  }

  @Test
  void aGangOnlyUsesNodesOfOffersThatCouldHoldItWhole() {
    // Offer "pair" can hold a 2 x 8 gang, "single" cannot: the second gang has nowhere to go,
    // although the fleet has 8 GPUs left.
    PlacementBound b =
        bound(
            List.of(node("a", 8), node("b", 8), node("c", 8)),
            offer("pair", "1.00", null, "a", "b"),
            offer("single", "1.00", null, "c"));
    assertThat(b.maxGpus(List.of(job(2, 8), job(2, 8)))).isEqualTo(16);
    assertThat(b.maxGpus(List.of(job(2, 8), job(2, 8), job(1, 8)))).isEqualTo(24);
  }

  @Test
  void theCostIsTheCheapestOfferThatMayServeEachNode() {
    PlacementBound b =
        bound(
            List.of(node("a", 8), node("b", 8)),
            offer("dear", "3.00", null, "a", "b"),
            offer("cheap", "1.00", 8, "a"));
    // 8 GPUs at 1.00 on "a" through the cheap offer, then 4 at 3.00 on "b".
    assertThat(b.solve(List.of(job(1, 8), job(1, 4))))
        .isEqualTo(new PlacementBound.Bound(12, 2000));
    // A 2 x 8 gang is over the cheap offer's cap: only the dear one may serve it.
    assertThat(b.solve(List.of(job(2, 8)))).isEqualTo(new PlacementBound.Bound(16, 4800));
  }

  /**
   * On random tiny fleets, the bound is never below the most GPUs an integer placement gives, nor
   * above the least such a placement of the same jobs costs; and it is often exact.
   */
  @Test
  void neverBelowTheTrueOptimumOnRandomTinyFleets() {
    Random random = new Random(7);
    int exact = 0;
    int trials = 300;
    for (int trial = 0; trial < trials; trial++) {
      List<NodeState> nodes = new ArrayList<>();
      int hosts = 1 + random.nextInt(3);
      for (int i = 0; i < hosts; i++) {
        nodes.add(node("n" + i, new int[] {1, 2, 3, 4, 7, 8}[random.nextInt(6)]));
      }
      List<OfferState> offers = new ArrayList<>();
      int count = 1 + random.nextInt(2);
      for (int o = 0; o < count; o++) {
        List<String> selected = new ArrayList<>();
        for (NodeState n : nodes) {
          if (random.nextBoolean()) {
            selected.add(n.name());
          }
        }
        Integer cap = random.nextInt(3) == 0 ? 1 + random.nextInt(12) : null;
        offers.add(
            offer("o" + o, (1 + random.nextInt(3)) + ".00", cap, selected.toArray(new String[0])));
      }
      List<PlacementRequest> jobs = new ArrayList<>();
      int n = 1 + random.nextInt(5);
      for (int j = 0; j < n; j++) {
        jobs.add(job(1 + random.nextInt(3), new int[] {1, 2, 4, 8}[random.nextInt(4)]));
      }
      Exhaustive best = new Exhaustive(nodes, offers, jobs);
      best.search(0, new int[nodes.size()], new int[offers.size()], 0, 0, new ArrayList<>());
      PlacementBound b = new PlacementBound(nodes, offers, t -> t);
      long max = b.maxGpus(jobs);
      assertThat(max).as("trial %d", trial).isGreaterThanOrEqualTo(best.gpus);
      if (max == best.gpus) {
        exact++;
      }
      PlacementBound.Bound ofBest = b.solve(best.placed);
      assertThat(ofBest.gpus()).as("trial %d", trial).isEqualTo(best.gpus);
      assertThat(ofBest.cents()).as("trial %d", trial).isLessThanOrEqualTo(best.cents);
    }
    assertThat(exact).isGreaterThan(trials * 9 / 10);
  }

  /** Every integer placement of the jobs, each whole through one offer or not at all. */
  private static final class Exhaustive {
    final List<NodeState> nodes;
    final List<OfferState> offers;
    final List<PlacementRequest> jobs;
    long gpus = -1;
    long cents;
    List<PlacementRequest> placed;

    Exhaustive(List<NodeState> nodes, List<OfferState> offers, List<PlacementRequest> jobs) {
      this.nodes = nodes;
      this.offers = offers;
      this.jobs = jobs;
    }

    void search(int j, int[] used, int[] leased, long g, long c, List<PlacementRequest> in) {
      if (j == jobs.size()) {
        if (g > gpus || (g == gpus && c < cents)) {
          gpus = g;
          cents = c;
          placed = new ArrayList<>(in);
        }
        return;
      }
      search(j + 1, used, leased, g, c, in);
      PlacementRequest r = jobs.get(j);
      for (int o = 0; o < offers.size(); o++) {
        OfferState offer = offers.get(o);
        if (offer.gpuCap() != null && leased[o] + r.totalGpus() > offer.gpuCap()) {
          continue;
        }
        List<Integer> usable = new ArrayList<>();
        for (int k = 0; k < nodes.size(); k++) {
          if (offer.nodes().contains(nodes.get(k).name())) {
            usable.add(k);
          }
        }
        long price = offer.price().movePointRight(2).longValueExact() * r.totalGpus();
        leased[o] += r.totalGpus();
        in.add(r);
        blocks(j, r, usable, 0, r.blocks(), used, leased, g + r.totalGpus(), c + price, in);
        in.remove(in.size() - 1);
        leased[o] -= r.totalGpus();
      }
    }

    /** Spreads {@code left} blocks over the usable nodes from index {@code at} on, every way. */
    private void blocks(
        int j,
        PlacementRequest r,
        List<Integer> usable,
        int at,
        int left,
        int[] used,
        int[] leased,
        long g,
        long c,
        List<PlacementRequest> in) {
      if (left == 0) {
        search(j + 1, used, leased, g, c, in);
        return;
      }
      if (at == usable.size()) {
        return;
      }
      int k = usable.get(at);
      int room = (nodes.get(k).healthyGpus() - used[k]) / r.gpusPerBlock();
      for (int take = Math.min(room, left); take >= 0; take--) {
        used[k] += take * r.gpusPerBlock();
        blocks(j, r, usable, at + 1, left - take, used, leased, g, c, in);
        used[k] -= take * r.gpusPerBlock();
      }
    }
  }
}
