package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Share of time a host was Ready, over sliding windows. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class UptimeStatus {
  @JsonPropertyDescription("Share of the last hour the host was Ready, from 0 to 1.")
  public Double ratio1h;

  @JsonPropertyDescription("Share of the last 24 hours the host was Ready, from 0 to 1.")
  public Double ratio24h;

  @JsonPropertyDescription("Share of the last 7 days the host was Ready, from 0 to 1.")
  public Double ratio7d;

  @JsonPropertyDescription("Since when the host has been Ready without a break (RFC 3339).")
  public String upSince;
}
