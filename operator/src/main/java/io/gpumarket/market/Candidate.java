package io.gpumarket.market;

import java.util.List;

/**
 * An offer that can take every block of a request, and how good a fit it is.
 *
 * @param blockNodes the GpuNode of each block, or null while only ranked
 */
record Candidate(
    OfferState offer, int preference, double minUptime, int leftover, List<String> blockNodes) {

  /** The winner first: see {@link Market}. */
  static int order(Candidate a, Candidate b) {
    int c = a.offer.price().compareTo(b.offer.price());
    if (c == 0) {
      c = Integer.compare(a.preference, b.preference);
    }
    if (c == 0) {
      c = Double.compare(-a.minUptime, -b.minUptime);
    }
    if (c == 0) {
      c = Integer.compare(a.leftover, b.leftover);
    }
    if (c == 0) {
      c = a.offer.id().namespace.compareTo(b.offer.id().namespace);
    }
    if (c == 0) {
      c = a.offer.id().name.compareTo(b.offer.id().name);
    }
    return c;
  }
}
