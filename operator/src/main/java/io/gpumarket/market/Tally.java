package io.gpumarket.market;

import io.gpumarket.market.Refusal.Reason;

/** Per reason, how many offers got no further, and the three cheapest of them. */
final class Tally {
  final int[] counts = new int[Reason.values().length];
  final Slot[][] cheapest = new Slot[Reason.values().length][3];
  Slot cheapestAboveCap;

  void note(Reason reason, PriceIndex offers, int i) {
    int r = reason.ordinal();
    Slot[] top = cheapest[r];
    int held = Math.min(counts[r]++, 3);
    if (held == 3 && !before(offers, i, top[2])) {
      return;
    }
    Slot slot = offers.slots[i];
    int at = held;
    while (at > 0 && before(offers, i, top[at - 1])) {
      at--;
    }
    for (int k = Math.min(held, 2); k > at; k--) {
      top[k] = top[k - 1];
    }
    top[at] = slot;
  }

  void aboveCap(PriceIndex offers, int i) {
    if (cheapestAboveCap == null || before(offers, i, cheapestAboveCap)) {
      cheapestAboveCap = offers.slots[i];
    }
  }

  /** Whether the offer at a position is cheaper than another, then first by namespace/name. */
  private static boolean before(PriceIndex offers, int i, Slot other) {
    int byPrice =
        other.index == offers
            ? Integer.compare(offers.rank[i], offers.rank[other.position])
            : offers.slots[i].offer.price().compareTo(other.offer.price());
    return byPrice < 0 || (byPrice == 0 && offers.slots[i].key.compareTo(other.key) < 0);
  }

  Reason furthest() {
    Reason[] reasons = Reason.values();
    for (int r = reasons.length - 1; r > 0; r--) {
      if (counts[r] > 0) {
        return reasons[r];
      }
    }
    return reasons[0];
  }
}
