package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** The node agent's answer to a compute challenge. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ChallengeAnswer {
  @JsonPropertyDescription("The nonce answered.")
  public String nonce;

  @JsonPropertyDescription("The GpuNode the agent answers for.")
  public String gpuNode;

  @JsonPropertyDescription("Merkle root over every row of the product, hex.")
  public String root;

  @JsonPropertyDescription("The rows the commitment selected, with their Merkle paths.")
  public List<AnsweredRow> rows = new ArrayList<>();

  @JsonPropertyDescription("Milliseconds the agent took to answer, as it reports.")
  public long elapsedMillis;

  @JsonPropertyDescription("cuda or simulated.")
  public String backend;

  /** One revealed row. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AnsweredRow {
    @JsonPropertyDescription("Row index.")
    public int index;

    @JsonPropertyDescription("The row's values.")
    public List<Integer> values = new ArrayList<>();

    @JsonPropertyDescription("Sibling hashes from the row up to the root, hex; empty where none.")
    public List<String> path = new ArrayList<>();
  }
}
