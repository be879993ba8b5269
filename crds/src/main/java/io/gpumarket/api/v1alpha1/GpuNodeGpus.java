package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** The GPUs a provider declares for one host. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuNodeGpus {
  @JsonPropertyDescription(
      "Canonical GPU model key from the gpumarket catalog, such as h100-80gb, a100-40gb or rtx-4090.")
  @Required
  @Size(min = 1, max = 63)
  public String model;

  @JsonPropertyDescription("Number of GPUs in the host.")
  @Required
  @Min(1)
  @Max(64)
  public Integer count;

  @JsonPropertyDescription(
      "Memory of one GPU in GiB; defaults to the catalog's figure for the model.")
  @Min(1)
  @Max(4096)
  public Integer memoryGiB;

  @JsonPropertyDescription("How the GPUs are linked: nvlink or pcie.")
  public Interconnect interconnect;
}
