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

  @JsonPropertyDescription(
      "Heartbeats missed over the last 24 hours: the minutes the host was not Ready times the"
          + " heartbeats the agent sends a minute. Derived from the history, so a restart keeps it.")
  public Integer missedHeartbeats24h;

  @JsonPropertyDescription("Since when the host has been Ready without a break (RFC 3339).")
  public String upSince;

  @JsonPropertyDescription(
      "Per-minute history of the last 7 days, one bit a minute (1: Ready), oldest first, base64;"
          + " kept in status so an operator restart loses none of it.")
  public String history;

  @JsonPropertyDescription(
      "Minute (Unix epoch minutes) of the last bit of history. It is written when readiness"
          + " changes, when a figure above moves, and at least hourly: the minutes since held the"
          + " state of the Ready condition.")
  public Long historyEndMinute;

  @JsonPropertyDescription("Minutes of history recorded so far, up to 7 days.")
  public Integer trackedMinutes;
}
