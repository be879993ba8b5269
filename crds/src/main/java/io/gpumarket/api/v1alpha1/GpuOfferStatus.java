package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuOfferStatus {
  @JsonPropertyDescription("Ready: the offer sells at least one healthy GPU; if not, the reason.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Generation of the spec that this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("Healthy GPUs of the nodes this offer sells, up to its gpus cap.")
  public Integer capacityGpus;

  @JsonPropertyDescription("GPUs leased through this offer now.")
  public Integer leasedGpus;

  @JsonPropertyDescription("GPUs a new lease could get through this offer now.")
  public Integer availableGpus;

  @JsonPropertyDescription(
      "Most free GPUs on one node: what a job that needs its GPUs on one host can really get.")
  public Integer largestFreeBlock;

  @JsonPropertyDescription("GpuNodes this offer sells.")
  public List<String> nodes = new ArrayList<>();
}
