package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How the GPUs of one host talk to each other. */
public enum Interconnect {
  @JsonProperty("nvlink")
  NVLINK,
  @JsonProperty("pcie")
  PCIE
}
