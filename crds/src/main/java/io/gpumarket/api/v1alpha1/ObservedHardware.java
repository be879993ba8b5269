package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** The GPUs the node agent found on its host. Written by the agent only. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ObservedHardware {
  @JsonPropertyDescription("Every GPU device the agent found.")
  public List<ObservedDevice> devices = new ArrayList<>();

  @JsonPropertyDescription("Version of the NVIDIA driver, as CUDA reports it.")
  public String driverVersion;

  @JsonPropertyDescription("CUDA version the driver supports.")
  public String cudaVersion;

  @JsonPropertyDescription(
      "How the agent computes: cuda (on the GPUs) or simulated (on the CPU, no GPU present).")
  public String backend;

  @JsonPropertyDescription("When the agent last looked (RFC 3339).")
  public String observedTime;
}
