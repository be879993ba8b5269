package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A compute challenge the operator issued to a GpuNode. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class IssuedChallenge {
  @JsonPropertyDescription("Random nonce that seeds the matrices; never reused.")
  public String nonce;

  @JsonPropertyDescription("Matrix size n: the agent multiplies two n by n int8 matrices.")
  public int size;

  @JsonPropertyDescription("Rows of the product the agent reveals.")
  public int samples;

  @JsonPropertyDescription("When the challenge was issued (RFC 3339, milliseconds).")
  public String issuedTime;

  @JsonPropertyDescription(
      "Milliseconds an honest GPU of the declared model may take, network included.")
  public long allowedMillis;
}
