package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.gpusPerNode) || self.gpus % self.gpusPerNode == 0",
    message = "gpus must be a multiple of gpusPerNode")
@ValidationRule(
    value = "!has(self.duration) || !has(self.endTime)",
    message = "give duration or endTime, not both")
@ValidationRule(
    value = "has(self.offerRef) || (has(self.models) && size(self.models) > 0)",
    message = "a lease needs offerRef, or models for the operator to choose an offer")
@ValidationRule(
    value = "!has(oldSelf.offerRef) || (has(self.offerRef) && self.offerRef == oldSelf.offerRef)",
    message = "offerRef is immutable")
@ValidationRule(value = "self.gpus == oldSelf.gpus", message = "gpus is immutable")
@ValidationRule(
    value = "!oldSelf.release || self.release",
    message = "a released lease cannot be taken back: create a new one")
public class GpuLeaseSpec {
  @JsonPropertyDescription(
      "The offer to lease from. Without it the operator chooses the cheapest offer that meets the"
          + " constraints below. Immutable.")
  public ObjectRef offerRef;

  @JsonPropertyDescription(
      "Acceptable canonical GPU model keys, preferred first, when the operator chooses the offer.")
  @Size(max = 16)
  public List<String> models;

  @JsonPropertyDescription("Tier the GPUs must sit in: edge, datacenter or any.")
  @Default("any")
  public TierRequirement tier = TierRequirement.ANY;

  @JsonPropertyDescription("Regions the GPUs may sit in; empty accepts any region.")
  @Size(max = 32)
  public List<String> regions;

  @JsonPropertyDescription(
      "Highest price per GPU-hour accepted, as a decimal string such as \"2.50\".")
  @Pattern(GpuMarket.DECIMAL_PATTERN)
  public String maxPricePerGpuHour;

  @JsonPropertyDescription("Currency of maxPricePerGpuHour; only offers in it qualify.")
  @Default("USD")
  @Pattern(GpuMarket.CURRENCY_PATTERN)
  public String currency = "USD";

  @JsonPropertyDescription("Lowest 24-hour uptime ratio (0 to 1) accepted for the nodes.")
  @Min(0)
  @Max(1)
  public Double minUptimeRatio;

  @JsonPropertyDescription("True accepts only nodes whose hardware has been verified.")
  @Default("false")
  public boolean requireVerified;

  @JsonPropertyDescription("Number of GPUs to lease. Immutable.")
  @Required
  @Min(1)
  @Max(4096)
  public Integer gpus;

  @JsonPropertyDescription(
      "GPUs that must sit together on one node, as blocks: a job replica needing 8 GPUs on one"
          + " host asks 8. Several blocks may share a node. Default: all of gpus on one node.")
  @Min(1)
  @Max(64)
  public Integer gpusPerNode;

  @JsonPropertyDescription("How long the lease runs once bound, such as 24h; open-ended if absent.")
  @Pattern(GpuMarket.DURATION_PATTERN)
  public String duration;

  @JsonPropertyDescription("When the lease ends (RFC 3339), instead of duration.")
  public String endTime;

  @JsonPropertyDescription(
      "True ends the lease now: its GPUs return to the market and its cost is final.")
  @Default("false")
  public boolean release;
}
