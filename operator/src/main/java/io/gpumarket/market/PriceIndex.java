package io.gpumarket.market;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One model's offers by price, with a max-tree over {@link Slot#room()}: a decision jumps to the
 * next offer that could hold one block instead of walking past the full ones. Each offer's {@link
 * Kind} (what every check but price and uptime reads of it) is numbered by position: offers of one
 * kind fare alike, so a decision judges each kind once and each offer by a look-up.
 */
final class PriceIndex {
  /** By price, then in the order given. */
  final Slot[] slots;

  /** In the order given. */
  final List<Slot> inOrder;

  /** How many of its offers are priced in each currency. */
  final Map<String, Integer> currencies = new HashMap<>();

  /** By position: equal for equal prices, larger for higher ones. */
  final int[] rank;

  /** Each distinct price, by rank, and the first position of each rank (then the count). */
  final BigDecimal[] prices;

  final int[] firstOfRank;

  /**
   * What the checks read of an offer and its nodes, but for its price and their uptime: its tenant
   * policy, suspension, currency, lease limits, and {@link Slot#tier} and the rest of the summary
   * of its live nodes.
   */
  record Kind(
      int policy,
      boolean suspended,
      String currency,
      Duration minLease,
      Duration maxLease,
      byte tier,
      int region,
      boolean anyVerified) {}

  /** The kinds seen, numbered; a kind no offer has any more stays until the next renumbering. */
  final List<Kind> kinds = new ArrayList<>();

  private final Map<Kind, Integer> kindIds = new HashMap<>();

  /** By position: the number of its kind, its nodes (for a kind of {@link Slot#MIXED} nodes)... */
  final int[] kind;

  final int[][] own;

  /** ...and the best uptimes of {@link Slot#bestUptime}. */
  final double[] bestUptime;

  final double[] bestVerifiedUptime;

  /** Its currency, by position, to keep {@link #currencies} when an offer changes. */
  private final String[] currency;

  final int size;
  final int[] tree;

  PriceIndex(List<Slot> inOrder) {
    this.inOrder = List.copyOf(inOrder);
    slots = inOrder.toArray(new Slot[0]);
    Arrays.sort(slots, PriceIndex::byPrice);
    int n = slots.length;
    rank = new int[n];
    kind = new int[n];
    own = new int[n][];
    bestUptime = new double[n];
    bestVerifiedUptime = new double[n];
    currency = new String[n];
    int s = 1;
    while (s < n) {
      s *= 2;
    }
    size = s;
    tree = new int[2 * s];
    List<BigDecimal> distinct = new ArrayList<>();
    List<Integer> starts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      slots[i].index = this;
      slots[i].position = i;
      BigDecimal price = slots[i].offer.price();
      if (i == 0 || price.compareTo(distinct.get(distinct.size() - 1)) != 0) {
        distinct.add(price);
        starts.add(i);
      }
      rank[i] = distinct.size() - 1;
      copy(i);
      tree[s + i] = slots[i].room();
    }
    prices = distinct.toArray(new BigDecimal[0]);
    firstOfRank = new int[prices.length + 1];
    for (int r = 0; r < prices.length; r++) {
      firstOfRank[r] = starts.get(r);
    }
    firstOfRank[prices.length] = n;
    for (int i = s - 1; i > 0; i--) {
      tree[i] = Math.max(tree[2 * i], tree[2 * i + 1]);
    }
  }

  /** Copies what the checks read of the offer at a position; its price must not change. */
  void copy(int i) {
    if (kinds.size() > 2 * slots.length + 16) {
      // Kinds of offers long changed: number the live ones again.
      kinds.clear();
      kindIds.clear();
      for (int j = 0; j < slots.length; j++) {
        if (j != i) {
          kind[j] = kindOf(slots[j]);
        }
      }
    }
    Slot slot = slots[i];
    OfferState offer = slot.offer;
    if (currency[i] != null) {
      currencies.merge(currency[i], -1, (a, b) -> a + b == 0 ? null : a + b);
    }
    currencies.merge(offer.currency(), 1, Integer::sum);
    currency[i] = offer.currency();
    kind[i] = kindOf(slot);
    own[i] = slot.own;
    bestUptime[i] = slot.bestUptime;
    bestVerifiedUptime[i] = slot.bestVerifiedUptime;
  }

  private int kindOf(Slot slot) {
    OfferState offer = slot.offer;
    Kind k =
        new Kind(
            slot.policy,
            offer.suspended(),
            offer.currency(),
            offer.minLease(),
            offer.maxLease(),
            slot.tier,
            slot.tier < 0 ? -1 : slot.region,
            slot.anyVerified);
    Integer id = kindIds.get(k);
    if (id == null) {
      id = kinds.size();
      kinds.add(k);
      kindIds.put(k, id);
    }
    return id;
  }

  void update(Slot slot) {
    int i = size + slot.position;
    tree[i] = slot.room();
    for (i /= 2; i > 0; i /= 2) {
      int max = Math.max(tree[2 * i], tree[2 * i + 1]);
      if (tree[i] == max) {
        break; // nothing above changes either
      }
      tree[i] = max;
    }
  }

  /**
   * The first position at or after {@code from} whose room is at least {@code need}, or -1. From
   * the leaf up to the first subtree on the right that holds one, then down to it: walking the
   * offers in order costs what lies between them, not a descent from the root each.
   */
  int next(int from, int need) {
    if (from >= slots.length) {
      return -1;
    }
    int i = size + from;
    if (tree[i] >= need) {
      return from;
    }
    for (; i > 1; i /= 2) {
      if ((i & 1) == 0 && tree[i + 1] >= need) {
        i++;
        while (i < size) {
          i = tree[2 * i] >= need ? 2 * i : 2 * i + 1;
        }
        return i - size;
      }
    }
    return -1;
  }

  /**
   * The first position priced above {@code cap} (the number of offers if none is): a search among
   * the few distinct prices, held together, rather than through the offers' records.
   */
  int firstAbove(BigDecimal cap) {
    if (cap == null) {
      return slots.length;
    }
    int lo = 0;
    int hi = prices.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (prices[mid].compareTo(cap) > 0) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return firstOfRank[lo];
  }

  private static int byPrice(Slot a, Slot b) {
    int c = a.offer.price().compareTo(b.offer.price());
    return c != 0 ? c : Integer.compare(a.order, b.order);
  }
}
