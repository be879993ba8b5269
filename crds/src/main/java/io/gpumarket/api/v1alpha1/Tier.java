package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where a GPU host sits: a small box at the edge or a rack in a datacenter. */
public enum Tier {
  @JsonProperty("edge")
  EDGE,
  @JsonProperty("datacenter")
  DATACENTER;

  public String value() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
