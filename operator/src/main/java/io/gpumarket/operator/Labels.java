package io.gpumarket.operator;

/** Labels, annotations, taints and finalizers the operator puts on what it manages. */
public final class Labels {
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "gpumarket";
  public static final String JOB = "gpumarket.io/job";
  public static final String LEASE = "gpumarket.io/lease";
  public static final String REPLICA = "gpumarket.io/replica";
  public static final String ATTEMPT = "gpumarket.io/attempt";

  /** The taint a provider puts on market nodes, so that only market pods land there. */
  public static final String GPU_TAINT = "gpumarket.io/gpu";

  /** The extended resource that the NVIDIA device plugin advertises. */
  public static final String GPU_RESOURCE = "nvidia.com/gpu";

  /** On a node agent's heartbeat Lease: the GpuNode it speaks for. */
  public static final String HEARTBEAT_GPUNODE = "gpumarket.io/gpunode";

  /** Name of the ResourceQuota the operator keeps in each tenant namespace. */
  public static final String QUOTA_NAME = "gpumarket-gpus";

  private Labels() {}
}
