package io.gpumarket.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** GPUs of one host held by one lease. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GpuAllocation {
  @JsonPropertyDescription("The lease holding the GPUs.")
  public ObjectRef lease;

  @JsonPropertyDescription("UID of the lease, so that a deleted and recreated lease is told apart.")
  public String leaseUid;

  @JsonPropertyDescription("The offer the GPUs were leased through.")
  public ObjectRef offer;

  @JsonPropertyDescription("Number of GPUs held.")
  public int gpus;

  public int gpus() {
    return gpus;
  }

  public GpuAllocation() {}

  public GpuAllocation(ObjectRef lease, String leaseUid, ObjectRef offer, int gpus) {
    this.lease = lease;
    this.leaseUid = leaseUid;
    this.offer = offer;
    this.gpus = gpus;
  }
}
