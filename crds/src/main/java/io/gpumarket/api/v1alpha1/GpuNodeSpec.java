package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuNodeSpec {
  @JsonPropertyDescription(
      "Provider that contributes this host; only GpuOffers of the same provider can sell its GPUs.")
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  @Size(max = 63)
  public String provider;

  @JsonPropertyDescription("Where the host sits: edge (a small box) or datacenter.")
  @Required
  public Tier tier;

  @JsonPropertyDescription(
      "Name of the Kubernetes Node that runs the GPUs; job pods are pinned to it. Immutable.")
  @Required
  @Size(min = 1, max = 253)
  @ValidationRule(
      value = "self == oldSelf",
      message = "nodeName is immutable: create a new GpuNode for another Node")
  public String nodeName;

  @JsonPropertyDescription("Region of the host, such as eu-west or us-east; jobs can require one.")
  @Size(max = 63)
  public String region;

  @JsonPropertyDescription("Zone of the host within its region.")
  @Size(max = 63)
  public String zone;

  @JsonPropertyDescription("The GPUs the provider declares for this host.")
  @Required
  public GpuNodeGpus gpus;

  @JsonPropertyDescription(
      "Cordon: true keeps leases already made but offers no GPU of this host to new ones.")
  @Default("false")
  public boolean unschedulable;

  @JsonPropertyDescription("How often the node agent reports, and how long silence is tolerated.")
  public HeartbeatSpec heartbeat;
}
