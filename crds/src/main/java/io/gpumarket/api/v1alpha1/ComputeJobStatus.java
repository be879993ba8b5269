package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ComputeJobStatus {
  @JsonPropertyDescription("Pending, Scheduled, Running, Succeeded, Failed or Cancelled.")
  public JobPhase phase;

  @JsonPropertyDescription(
      "Scheduled: GPUs leased; Running: every replica runs; Complete / Failed: how it ended.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Generation of the spec that this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("Why the job waits or failed, in words a person can act on.")
  public String message;

  @JsonPropertyDescription("Name of the GpuLease the job runs on, in this namespace.")
  public String lease;

  @JsonPropertyDescription("The offer the GPUs were leased from.")
  public ObjectRef offer;

  @JsonPropertyDescription("Canonical model key of the GPUs the job runs on.")
  public String model;

  @JsonPropertyDescription("GPUs the job holds: replicas times gpu.perReplica.")
  public Integer gpus;

  @JsonPropertyDescription("GpuNodes the replicas run on, one entry per replica.")
  public List<String> nodes = new ArrayList<>();

  @JsonPropertyDescription("Price per GPU-hour the job pays, locked in its lease.")
  public String pricePerGpuHour;

  @JsonPropertyDescription("Currency of the price and the cost.")
  public String currency;

  @JsonPropertyDescription("When the job's GPUs were leased and billing began (RFC 3339).")
  public String startTime;

  @JsonPropertyDescription("When the job ended (RFC 3339).")
  public String completionTime;

  @JsonPropertyDescription("GPU-seconds billed to the job so far.")
  public Long gpuSeconds;

  @JsonPropertyDescription("Cost billed to the job so far, in currency.")
  public String cost;

  @JsonPropertyDescription("Attempts started; a failed attempt is retried up to backoffLimit.")
  public Integer attempts;

  @JsonPropertyDescription("On-demand leases taken so far: more than one after a host was lost.")
  public Integer leaseGeneration;

  @JsonPropertyDescription("GPU-seconds billed by earlier leases of this job, before a reschedule.")
  public Long priorGpuSeconds;

  @JsonPropertyDescription("Cost billed by earlier leases of this job, before a reschedule.")
  public String priorCost;
}
