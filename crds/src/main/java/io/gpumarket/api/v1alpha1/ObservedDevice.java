package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One GPU device as the node agent found it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ObservedDevice {
  @JsonPropertyDescription("CUDA device ordinal.")
  public int index;

  @JsonPropertyDescription("Device UUID, GPU-xxxxxxxx-....")
  public String uuid;

  @JsonPropertyDescription("Product name exactly as the driver reports it.")
  public String product;

  @JsonPropertyDescription(
      "Canonical model key from the catalog, or absent if the name is unknown.")
  public String model;

  @JsonPropertyDescription("Device memory in MiB.")
  public Long memoryMiB;

  @JsonPropertyDescription("CUDA compute capability, such as 9.0.")
  public String computeCapability;

  @JsonPropertyDescription("Whether the device answered the agent's checks.")
  public boolean healthy;
}
