package io.gpumarket.market;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One model's offers by price, with a max-tree over {@link Slot#room()}: a decision jumps to the
 * next offer that could hold one block instead of walking past the full ones. The offer-level facts
 * a refusal checks are copied into arrays by position.
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

  final int[] policy;
  final boolean[] suspended;
  final String[] currency;

  /** Lease limits in seconds and nanoseconds; MIN_VALUE and MAX_VALUE seconds for none. */
  final long[] minLeaseSeconds;

  final int[] minLeaseNanos;
  final long[] maxLeaseSeconds;
  final int[] maxLeaseNanos;
  final int[][] own;
  final byte[] tier;
  final int[] region;
  final double[] bestUptime;
  final double[] bestVerifiedUptime;
  final boolean[] anyVerified;

  final int size;
  final int[] tree;

  PriceIndex(List<Slot> inOrder) {
    this.inOrder = List.copyOf(inOrder);
    slots = inOrder.toArray(new Slot[0]);
    Arrays.sort(
        slots, Comparator.comparing((Slot s) -> s.offer.price()).thenComparingInt(s -> s.order));
    int n = slots.length;
    rank = new int[n];
    policy = new int[n];
    suspended = new boolean[n];
    currency = new String[n];
    minLeaseSeconds = new long[n];
    minLeaseNanos = new int[n];
    maxLeaseSeconds = new long[n];
    maxLeaseNanos = new int[n];
    own = new int[n][];
    tier = new byte[n];
    region = new int[n];
    bestUptime = new double[n];
    bestVerifiedUptime = new double[n];
    anyVerified = new boolean[n];
    int s = 1;
    while (s < n) {
      s *= 2;
    }
    size = s;
    tree = new int[2 * s];
    for (int i = 0; i < n; i++) {
      slots[i].index = this;
      slots[i].position = i;
      boolean samePrice =
          i > 0 && slots[i].offer.price().compareTo(slots[i - 1].offer.price()) == 0;
      rank[i] = i == 0 ? 0 : samePrice ? rank[i - 1] : rank[i - 1] + 1;
      copy(i);
      tree[s + i] = slots[i].room();
    }
    for (int i = s - 1; i > 0; i--) {
      tree[i] = Math.max(tree[2 * i], tree[2 * i + 1]);
    }
  }

  /** Copies what a refusal checks of the offer at a position; its price must not change. */
  void copy(int i) {
    Slot slot = slots[i];
    OfferState offer = slot.offer;
    if (currency[i] != null) {
      currencies.merge(currency[i], -1, (a, b) -> a + b == 0 ? null : a + b);
    }
    currencies.merge(offer.currency(), 1, Integer::sum);
    policy[i] = slot.policy;
    suspended[i] = offer.suspended();
    currency[i] = offer.currency();
    Duration min = offer.minLease();
    Duration max = offer.maxLease();
    minLeaseSeconds[i] = min == null ? Long.MIN_VALUE : min.getSeconds();
    minLeaseNanos[i] = min == null ? 0 : min.getNano();
    maxLeaseSeconds[i] = max == null ? Long.MAX_VALUE : max.getSeconds();
    maxLeaseNanos[i] = max == null ? 0 : max.getNano();
    own[i] = slot.own;
    tier[i] = slot.tier;
    region[i] = slot.region;
    bestUptime[i] = slot.bestUptime;
    bestVerifiedUptime[i] = slot.bestVerifiedUptime;
    anyVerified[i] = slot.anyVerified;
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

  /** The first position priced above {@code cap} (the number of offers if none is). */
  int firstAbove(BigDecimal cap) {
    if (cap == null) {
      return slots.length;
    }
    int lo = 0;
    int hi = slots.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (slots[mid].offer.price().compareTo(cap) > 0) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }
}
