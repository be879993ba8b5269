package io.gpumarket.market;

/** An offer and what the {@link Market} keeps about it between decisions. */
final class Slot {
  /** {@link #tier} when none of its nodes that may sell is up. */
  static final byte NONE_LIVE = -1;

  /** {@link #tier} when they differ in tier or region. */
  static final byte MIXED = -2;

  final int order;
  final String key;
  OfferState offer;

  /** Position of each of its nodes, or -1 for a node the market does not know. */
  final int[] nodes;

  /** Positions of its nodes of its provider and model, in its order: those that may sell. */
  int[] own;

  int policy;

  /** Most free GPUs on one of its nodes that is up, uncordoned, of its provider and model. */
  int largestFree;

  /**
   * Its nodes that may sell and are up, summed up for a refusal's walk: their tier's code (as in
   * {@code Market.tierOf}) when they share tier and region, {@link #NONE_LIVE} or {@link #MIXED}...
   */
  byte tier;

  /** ...their region's number... */
  int region;

  /** ...the best 24h uptime among them and among the verified (-Infinity if none is measured)... */
  double bestUptime;

  double bestVerifiedUptime;

  /** ...and whether one is verified. */
  boolean anyVerified;

  PriceIndex index;
  int position;

  Slot(int order, OfferState offer, int[] nodes) {
    this.order = order;
    this.key = offer.id().toString();
    this.offer = offer;
    this.nodes = nodes;
  }

  /** The largest block it could sell now, at best. */
  int room() {
    return Math.min(largestFree, offer.remainingCap());
  }
}
