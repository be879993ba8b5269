package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.template.spec) && size(self.template.spec.containers) > 0",
    message = "template.spec.containers needs at least one container")
@ValidationRule(
    value = "!has(oldSelf.leaseRef) || (has(self.leaseRef) && self.leaseRef == oldSelf.leaseRef)",
    message = "leaseRef is immutable")
@ValidationRule(value = "self.replicas == oldSelf.replicas", message = "replicas is immutable")
@ValidationRule(
    value = "!oldSelf.cancel || self.cancel",
    message = "a cancelled job cannot be resumed: create a new one")
public class ComputeJobSpec {
  @JsonPropertyDescription("The GPUs each replica needs and where they may come from.")
  @Required
  public GpuRequirement gpu;

  @JsonPropertyDescription(
      "Replicas that run together (a gang): all are placed or none. Immutable.")
  @Default("1")
  @Min(1)
  @Max(512)
  public int replicas = 1;

  @JsonPropertyDescription(
      "Highest price per GPU-hour the job pays, as a decimal string such as \"2.50\"; any price"
          + " if absent.")
  @Pattern(GpuMarket.DECIMAL_PATTERN)
  public String maxPricePerGpuHour;

  @JsonPropertyDescription("Currency of maxPricePerGpuHour; only offers in it qualify.")
  @Default("USD")
  @Pattern(GpuMarket.CURRENCY_PATTERN)
  public String currency = "USD";

  @JsonPropertyDescription(
      "Name of an Active GpuLease in this namespace to run on, instead of leasing on demand."
          + " Immutable.")
  public String leaseRef;

  @JsonPropertyDescription(
      "Pod template of each replica: containers, env, volumes, resources. The operator adds the"
          + " GPU request, the node pinning and the tolerations.")
  @Required
  public PodTemplateSpec template;

  @JsonPropertyDescription(
      "Seconds from creation after which the job is failed and its pods stopped, waiting included.")
  @Min(1)
  public Long activeDeadlineSeconds;

  @JsonPropertyDescription("Failed attempts retried before the job is failed.")
  @Default("3")
  @Min(0)
  @Max(100)
  public int backoffLimit = 3;

  @JsonPropertyDescription(
      "When a host the job runs on stays down past the operator's toleration: Reschedule (lease"
          + " elsewhere and start again) or Fail.")
  @Default("Reschedule")
  public NodeFailurePolicy nodeFailurePolicy = NodeFailurePolicy.Reschedule;

  @JsonPropertyDescription("True stops the job: pods deleted, lease released, phase Cancelled.")
  @Default("false")
  public boolean cancel;
}
