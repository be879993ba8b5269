package io.gpumarket.market;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a request goes: an offer, and the node of each block.
 *
 * @param blockNodes the GpuNode of each block, in block order
 */
public record Placement(OfferState offer, String model, List<String> blockNodes, int gpusPerBlock)
    implements Decision {

  /** GPUs per GpuNode, by node name. */
  public Map<String, Integer> gpusByNode() {
    Map<String, Integer> byNode = new TreeMap<>();
    for (String node : blockNodes) {
      byNode.merge(node, gpusPerBlock, Integer::sum);
    }
    return byNode;
  }
}
