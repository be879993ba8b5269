package io.gpumarket.market;

import io.gpumarket.api.v1alpha1.Tier;

/**
 * A GPU host as the market sees it at one moment.
 *
 * @param name the GpuNode
 * @param nodeName the Kubernetes Node its pods run on
 * @param healthyGpus GPUs that are healthy now
 * @param heldGpus GPUs held by leases now
 * @param ready the host is up
 * @param schedulable the provider has not cordoned it
 * @param uptime24h share of the last 24 hours it was up, or null while unmeasured
 */
public record NodeState(
    String name,
    String nodeName,
    String provider,
    Tier tier,
    String region,
    String model,
    int healthyGpus,
    int heldGpus,
    boolean ready,
    boolean schedulable,
    boolean verified,
    Double uptime24h) {

  public int freeGpus() {
    return Math.max(0, healthyGpus - heldGpus);
  }

  public NodeState withHeld(int held) {
    return new NodeState(
        name,
        nodeName,
        provider,
        tier,
        region,
        model,
        healthyGpus,
        held,
        ready,
        schedulable,
        verified,
        uptime24h);
  }
}
