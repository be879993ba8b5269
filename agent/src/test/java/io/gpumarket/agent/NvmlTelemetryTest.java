package io.gpumarket.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * NVML through JNA. Without a driver (CI) the real library is absent and this proves the agent
 * degrades; the binding itself is checked against {@code src/test/c/fake_nvml.c}, a stand-in
 * library with NVML's C signatures built here when a C compiler is present; on a GPU host the last
 * test reads the real devices.
 */
class NvmlTelemetryTest {
  @Test
  void aMissingLibraryIsUnavailableAndNeverThrows() {
    NvmlTelemetry nvml = NvmlTelemetry.open("libnvidia-ml-not-here.so.1");
    assertThat(nvml.available()).isFalse();
    assertThat(nvml.unavailableReason()).contains("libnvidia-ml-not-here.so.1");
    assertThat(nvml.sample()).isEmpty();
    assertThatCode(nvml::close).doesNotThrowAnyException();
    assertThat(nvml.source()).isEqualTo("nvml");
  }

  @Test
  void theDriversLibraryIsOpenedWithoutThrowingWhetherOrNotItIsThere() {
    for (int i = 0; i < 2; i++) {
      try (NvmlTelemetry nvml = NvmlTelemetry.open()) {
        if (!nvml.available()) {
          assertThat(nvml.sample()).isEmpty();
          assertThat(nvml.unavailableReason()).isNotBlank();
        }
      }
    }
  }

  @Test
  void theBindingReadsUuidsUtilizationAndMemoryOfAStandIn() throws Exception {
    try (NvmlTelemetry nvml = NvmlTelemetry.open(FakeNvml.build("fake-nvml.so").toString())) {
      assertThat(nvml.available()).isTrue();
      List<DeviceTelemetry.DeviceSample> samples = nvml.sample();
      assertThat(samples)
          .extracting(DeviceTelemetry.DeviceSample::uuid)
          .containsExactly(
              "GPU-00000000-1111-2222-3333-444444444444",
              "GPU-00000001-1111-2222-3333-444444444444");
      DeviceTelemetry.DeviceSample first = samples.get(0);
      assertThat(first.utilization()).hasValue(0.42);
      assertThat(first.memoryTotalBytes()).hasValue(80L << 30);
      assertThat(first.memoryUsedBytes()).hasValue(5L << 30);
      DeviceTelemetry.DeviceSample second = samples.get(1);
      assertThat(second.utilization()).as("NVML_ERROR_NOT_SUPPORTED").isEmpty();
      assertThat(second.memoryUsedBytes()).hasValue((5L << 30) + 1);
      nvml.close();
      assertThat(nvml.available()).as("after nvmlShutdown").isFalse();
      assertThat(nvml.sample()).isEmpty();
    }
  }

  @Test
  void aFailedInitIsUnavailableWithNvmlsReason() throws Exception {
    NvmlTelemetry nvml =
        NvmlTelemetry.open(FakeNvml.build("fake-nvml-no-driver.so", "-DFAIL_INIT").toString());
    assertThat(nvml.available()).isFalse();
    assertThat(nvml.unavailableReason()).contains("nvmlInit_v2", "Driver Not Loaded (9)");
    assertThat(nvml.sample()).isEmpty();
  }

  @Test
  void onAGpuHostNvmlReadsEveryDevice() {
    try (NvmlTelemetry nvml = NvmlTelemetry.open()) {
      Assumptions.assumeTrue(nvml.available(), "no NVML here: " + nvml.unavailableReason());
      List<DeviceTelemetry.DeviceSample> samples = nvml.sample();
      assertThat(samples).isNotEmpty();
      assertThat(samples)
          .allSatisfy(
              s -> {
                assertThat(s.uuid()).matches("(GPU|MIG)-[0-9a-f-]+");
                // Some devices (MIG instances, say) answer NVML_ERROR_NOT_SUPPORTED.
                s.utilization().ifPresent(u -> assertThat(u).isBetween(0.0, 1.0));
                assertThat(s.memoryUsedBytes()).isPresent();
                assertThat(s.memoryUsedBytes().getAsLong())
                    .isBetween(0L, s.memoryTotalBytes().getAsLong());
              });
      // The same devices CUDA finds, by UUID.
      try (GpuBackend cuda = Backends.select(Map.of("GPUMARKET_BACKEND", "cuda"), "gpu")) {
        assertThat(samples)
            .extracting(DeviceTelemetry.DeviceSample::uuid)
            .containsAll(cuda.discover().devices.stream().map(d -> d.uuid).toList());
      }
    }
  }
}
