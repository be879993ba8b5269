package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** The GPUs a job replica needs. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuRequirement {
  @JsonPropertyDescription(
      "Acceptable canonical GPU model keys, preferred first, such as [h100-80gb, a100-80gb]."
          + " Immutable.")
  @Required
  @Size(min = 1, max = 16)
  @ValidationRule(value = "self == oldSelf", message = "gpu.models is immutable")
  public List<String> models;

  @JsonPropertyDescription("GPUs each replica needs, all on one node.")
  @Default("1")
  @Min(1)
  @Max(64)
  public int perReplica = 1;

  @JsonPropertyDescription("Tier the GPUs must sit in: edge, datacenter or any.")
  @Default("any")
  public TierRequirement tier = TierRequirement.ANY;

  @JsonPropertyDescription("Regions the GPUs may sit in; empty accepts any region.")
  @Size(max = 32)
  public List<String> regions;

  @JsonPropertyDescription("Lowest 24-hour uptime ratio (0 to 1) accepted for the nodes.")
  @Min(0)
  @Max(1)
  public Double minUptimeRatio;

  @JsonPropertyDescription("True accepts only nodes whose hardware has been verified.")
  @Default("false")
  public boolean requireVerified;
}
