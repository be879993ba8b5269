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
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.nodeSelector) || has(self.nodeNames)",
    message = "an offer needs nodeSelector or nodeNames to say which GpuNodes it sells")
@ValidationRule(
    value =
        "!has(self.minLeaseDuration) || !has(self.maxLeaseDuration)"
            + " || duration(self.minLeaseDuration) <= duration(self.maxLeaseDuration)",
    message = "minLeaseDuration must not be longer than maxLeaseDuration")
public class GpuOfferSpec {
  @JsonPropertyDescription("Provider selling the capacity; it must own the GpuNodes selected.")
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  @Size(max = 63)
  public String provider;

  @JsonPropertyDescription(
      "Canonical GPU model key of the capacity sold, such as h100-80gb; nodes of another model are"
          + " not sold by this offer.")
  @Required
  @Size(min = 1, max = 63)
  public String model;

  @JsonPropertyDescription("Label selector over GpuNodes whose GPUs this offer sells.")
  public LabelSelector nodeSelector;

  @JsonPropertyDescription("Names of GpuNodes whose GPUs this offer sells, beside nodeSelector.")
  @Size(max = 1000)
  public List<String> nodeNames;

  @JsonPropertyDescription(
      "Most GPUs this offer leases out at once; by default every healthy GPU of its nodes.")
  @Min(1)
  @Max(100000)
  public Integer gpus;

  @JsonPropertyDescription(
      "Price of one GPU for one hour, as a positive decimal string such as \"2.40\".")
  @Required
  @Pattern(GpuMarket.DECIMAL_PATTERN)
  @ValidationRule(value = "double(self) > 0.0", message = "pricePerGpuHour must be greater than 0")
  public String pricePerGpuHour;

  @JsonPropertyDescription("ISO 4217 currency of the price, such as USD or EUR.")
  @Default("USD")
  @Pattern(GpuMarket.CURRENCY_PATTERN)
  public String currency = "USD";

  @JsonPropertyDescription("Shortest lease this offer accepts, as a duration such as 1h or 30m.")
  @Pattern(GpuMarket.DURATION_PATTERN)
  public String minLeaseDuration;

  @JsonPropertyDescription("Longest lease this offer accepts, as a duration such as 168h.")
  @Pattern(GpuMarket.DURATION_PATTERN)
  public String maxLeaseDuration;

  @JsonPropertyDescription(
      "Namespaces that may lease from this offer, as a label selector over Namespaces."
          + " Absent admits no tenant; an empty selector ({}) admits every namespace.")
  public LabelSelector tenants;

  @JsonPropertyDescription("True stops new leases; leases already made run to their end.")
  @Default("false")
  public boolean suspended;
}
