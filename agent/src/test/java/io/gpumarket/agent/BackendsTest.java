package io.gpumarket.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpumarket.proof.ChallengeMatrices;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Backend choice. On a machine without a CUDA driver (CI) this goes through JCuda for real and
 * proves the fallback; on a GPU host the same test checks the CUDA product against the CPU's.
 */
class BackendsTest {
  static boolean hasDriver() {
    return java.nio.file.Files.exists(
            java.nio.file.Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1"))
        || java.nio.file.Files.exists(java.nio.file.Path.of("/usr/lib64/libcuda.so.1"));
  }

  @Test
  void simulationIsForcedByTheEnvironmentAndReportsWhatItSimulates() {
    GpuBackend b =
        Backends.select(
            Map.of(
                "GPUMARKET_BACKEND",
                "simulated",
                "GPUMARKET_SIMULATE_GPUS",
                "8",
                "GPUMARKET_SIMULATE_PRODUCT",
                "NVIDIA H100 80GB HBM3"),
            "dc-1");
    var hw = b.discover();
    assertThat(hw.backend).isEqualTo("simulated");
    assertThat(hw.devices)
        .hasSize(8)
        .allSatisfy(
            d -> {
              assertThat(d.model).isEqualTo("h100-80gb");
              assertThat(d.memoryMiB).isEqualTo(80L * 1024);
              assertThat(d.uuid).startsWith("GPU-");
            });
    assertThat(hw.devices).extracting(d -> d.uuid).doesNotHaveDuplicates();
    assertThat(b.discover().devices.get(0).uuid)
        .as("stable across looks")
        .isEqualTo(hw.devices.get(0).uuid);
  }

  @Test
  void withoutADriverAutoFallsBackAndCudaModeSaysWhy() {
    Assumptions.assumeFalse(hasDriver(), "a CUDA driver is present");
    assertThat(Backends.select(Map.of(), "edge-1").name()).isEqualTo("simulated");
    // JCuda fails once with UnsatisfiedLinkError and then with NoClassDefFoundError: both are
    // handled.
    assertThat(Backends.select(Map.of(), "edge-1").name()).isEqualTo("simulated");
    assertThatThrownBy(() -> Backends.select(Map.of("GPUMARKET_BACKEND", "cuda"), "edge-1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("GPUMARKET_BACKEND=cuda but CUDA is unusable");
  }

  @Test
  void onAGpuTheCudaProductEqualsTheCpuProduct() {
    Assumptions.assumeTrue(hasDriver(), "no CUDA driver on this machine");
    try (GpuBackend cuda = Backends.select(Map.of("GPUMARKET_BACKEND", "cuda"), "gpu")) {
      ChallengeMatrices m = ChallengeMatrices.derive("cuda-check", 257);
      assertThat(cuda.multiply(m)).isEqualTo(m.product());
      assertThat(cuda.discover().devices).isNotEmpty();
    }
  }
}
