package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * Observed state of a GpuNode. The node agent writes {@code observed}; the operator writes {@code
 * conditions}, {@code allocatableGpus} and {@code lastHeartbeatTime} with a patch of its own
 * fields; {@code allocations} and {@code leasedGpus} change only together, by an update that
 * carries the resourceVersion they were computed from, so two writers can never lease the same GPU.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuNodeStatus {
  @JsonPropertyDescription(
      "Ready: the host is up and its GPUs can be leased; Verified: its hardware was checked.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Generation of the spec that the conditions describe.")
  public Long observedGeneration;

  @JsonPropertyDescription("GPUs of this host that are healthy now and so can be held by leases.")
  public Integer allocatableGpus;

  @JsonPropertyDescription("GPUs of this host held by leases; the sum of allocations.")
  public Integer leasedGpus;

  @JsonPropertyDescription("The leases holding GPUs of this host: the market's ledger for it.")
  public List<GpuAllocation> allocations = new ArrayList<>();

  @JsonPropertyDescription("Uptime of the host as the market measured it.")
  public UptimeStatus uptime;

  @JsonPropertyDescription(
      "The GPUs the node agent found; written by the agent, never by the operator.")
  public ObservedHardware observed;

  @JsonPropertyDescription(
      "When the node agent last renewed its heartbeat (RFC 3339), as of the operator's last write"
          + " of this status (at least hourly); the heartbeat Lease holds the live time.")
  public String lastHeartbeatTime;

  @JsonPropertyDescription("Compute challenges: the outstanding one, the answer, and the record.")
  public ChallengeStatus challenges;
}
