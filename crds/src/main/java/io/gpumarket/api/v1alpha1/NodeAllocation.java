package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** GPUs a lease holds on one GpuNode. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NodeAllocation {
  @JsonPropertyDescription("The GpuNode.")
  public String gpuNode;

  @JsonPropertyDescription("The Kubernetes Node of that GpuNode, where pods are pinned.")
  public String nodeName;

  @JsonPropertyDescription("GPUs held there.")
  public int gpus;

  public NodeAllocation() {}

  public NodeAllocation(String gpuNode, String nodeName, int gpus) {
    this.gpuNode = gpuNode;
    this.nodeName = nodeName;
    this.gpus = gpus;
  }
}
