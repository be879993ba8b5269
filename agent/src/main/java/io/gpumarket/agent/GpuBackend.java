package io.gpumarket.agent;

import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.gpumarket.proof.ChallengeMatrices;

/** Where the agent finds GPUs and computes challenges: CUDA through JCuda, or a CPU simulation. */
public interface GpuBackend extends AutoCloseable {
  /** {@code cuda} or {@code simulated}, as reported in the GpuNode's status. */
  String name();

  /** The GPUs of this host, with the driver's versions. */
  ObservedHardware discover();

  /** The exact int32 product of a challenge's matrices, row-major. */
  int[] multiply(ChallengeMatrices matrices);

  /** What its devices are doing now, read at each scrape; the same object on every call. */
  default DeviceTelemetry telemetry() {
    return DeviceTelemetry.NONE;
  }

  @Override
  default void close() {}
}
