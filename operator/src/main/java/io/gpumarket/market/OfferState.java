package io.gpumarket.market;

import io.gpumarket.api.v1alpha1.ObjectRef;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * A GpuOffer as the market sees it at one moment.
 *
 * @param nodes GpuNodes the offer selects, of its provider or not; the market skips the others
 * @param gpuCap most GPUs leased through it at once, or null for no cap
 * @param leasedGpus GPUs leased through it now
 * @param minLease shortest lease accepted, or null
 * @param maxLease longest lease accepted, or null
 * @param admitsTenant whether a namespace may lease from it
 */
public record OfferState(
    ObjectRef id,
    String provider,
    String model,
    List<String> nodes,
    Integer gpuCap,
    int leasedGpus,
    BigDecimal price,
    String currency,
    Duration minLease,
    Duration maxLease,
    Predicate<String> admitsTenant,
    boolean suspended) {

  public int remainingCap() {
    return gpuCap == null ? Integer.MAX_VALUE : Math.max(0, gpuCap - leasedGpus);
  }

  public OfferState withLeased(int leased) {
    return new OfferState(
        id,
        provider,
        model,
        nodes,
        gpuCap,
        leased,
        price,
        currency,
        minLease,
        maxLease,
        admitsTenant,
        suspended);
  }
}
