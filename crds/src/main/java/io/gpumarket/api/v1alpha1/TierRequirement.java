package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The tier a request accepts. */
public enum TierRequirement {
  @JsonProperty("edge")
  EDGE,
  @JsonProperty("datacenter")
  DATACENTER,
  @JsonProperty("any")
  ANY;

  public boolean accepts(Tier tier) {
    return this == ANY || (tier != null && tier.name().equals(name()));
  }

  public String value() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
