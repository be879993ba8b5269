package io.gpumarket.market;

import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.TierRequirement;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * What a lease or a job asks of the market.
 *
 * @param tenant namespace the GPUs are leased into
 * @param models acceptable model keys, preferred first
 * @param regions acceptable regions; empty accepts any
 * @param minUptimeRatio lowest 24h uptime accepted, or null
 * @param blocks number of blocks (job replicas)
 * @param gpusPerBlock GPUs each block needs on one node
 * @param maxPrice highest price per GPU-hour, or null for any
 * @param duration how long the lease runs, or null while open-ended
 * @param offerRef the one offer to use, or null to choose
 */
public record PlacementRequest(
    String tenant,
    List<String> models,
    TierRequirement tier,
    Set<String> regions,
    Double minUptimeRatio,
    boolean requireVerified,
    int blocks,
    int gpusPerBlock,
    BigDecimal maxPrice,
    String currency,
    Duration duration,
    ObjectRef offerRef) {

  public int totalGpus() {
    return blocks * gpusPerBlock;
  }
}
