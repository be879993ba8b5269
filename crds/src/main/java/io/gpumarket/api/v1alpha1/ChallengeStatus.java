package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Compute challenges of a GpuNode: the one outstanding, the agent's answer, and the record. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ChallengeStatus {
  @JsonPropertyDescription("The challenge the operator issued and awaits an answer to.")
  public IssuedChallenge issued;

  @JsonPropertyDescription(
      "The node agent's answer to the issued challenge, until the operator checks it.")
  public ChallengeAnswer answer;

  @JsonPropertyDescription("When the last challenge was checked (RFC 3339).")
  public String lastCheckedTime;

  @JsonPropertyDescription("Whether the last challenge passed.")
  public Boolean lastPassed;

  @JsonPropertyDescription(
      "Result of the last challenge: Passed, or why it failed (TooSlow, RowMismatch, BadMerklePath,"
          + " WrongRowSelection, UnknownNonce, ReplayedNonce, WrongNode).")
  public String lastResult;

  @JsonPropertyDescription("Why the last challenge passed or failed.")
  public String lastMessage;

  @JsonPropertyDescription("Challenges passed.")
  public long passed;

  @JsonPropertyDescription("Challenges failed.")
  public long failed;

  @JsonPropertyDescription("Integer operations per second the last passed challenge showed.")
  public Double measuredOpsPerSecond;
}
