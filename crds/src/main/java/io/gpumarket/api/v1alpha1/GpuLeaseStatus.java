package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuLeaseStatus {
  @JsonPropertyDescription("Pending, Active, Expired, Released or Failed.")
  public LeasePhase phase;

  @JsonPropertyDescription("Bound: the lease holds its GPUs; if not, the reason in words.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Generation of the spec that this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("Why the lease waits or failed, in words a person can act on.")
  public String message;

  @JsonPropertyDescription("The offer the lease is bound to.")
  public ObjectRef offer;

  @JsonPropertyDescription("Canonical model key of the leased GPUs.")
  public String model;

  @JsonPropertyDescription("GPUs held, per GpuNode.")
  public List<NodeAllocation> allocations = new ArrayList<>();

  @JsonPropertyDescription("Price per GPU-hour, locked when the lease was bound.")
  public String pricePerGpuHour;

  @JsonPropertyDescription("Currency of the price and the cost.")
  public String currency;

  @JsonPropertyDescription("When the lease was bound and billing began (RFC 3339).")
  public String startTime;

  @JsonPropertyDescription("When the lease ends or ended (RFC 3339); absent while open-ended.")
  public String endTime;

  @JsonPropertyDescription("GPU-seconds billed so far.")
  public Long gpuSeconds;

  @JsonPropertyDescription("Cost accrued so far, in currency: gpuSeconds times the price.")
  public String cost;
}
