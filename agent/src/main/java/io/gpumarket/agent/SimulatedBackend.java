package io.gpumarket.agent;

import io.gpumarket.api.v1alpha1.ObservedDevice;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.gpumarket.catalog.CatalogMatch;
import io.gpumarket.catalog.GpuCatalog;
import io.gpumarket.proof.ChallengeMatrices;
import java.util.UUID;

/**
 * No GPU here: reports the devices it is told to simulate and computes the challenge product on the
 * CPU, saying so in {@code backend: simulated}. Used without a CUDA driver, in tests and in the
 * sandbox.
 */
public final class SimulatedBackend implements GpuBackend {
  private final int count;
  private final String product;
  private final String host;

  /**
   * @param count how many devices to report
   * @param product the product name to report, as CUDA would (e.g. NVIDIA H100 80GB HBM3)
   * @param host seeds stable device UUIDs
   */
  public SimulatedBackend(int count, String product, String host) {
    this.count = count;
    this.product = product;
    this.host = host;
  }

  @Override
  public String name() {
    return "simulated";
  }

  @Override
  public ObservedHardware discover() {
    ObservedHardware hw = new ObservedHardware();
    CatalogMatch match = GpuCatalog.resolve(product);
    for (int i = 0; i < count; i++) {
      ObservedDevice d = new ObservedDevice();
      d.index = i;
      d.uuid =
          "GPU-"
              + UUID.nameUUIDFromBytes(
                  (host + "/" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      d.product = product;
      d.model = match.model().map(m -> m.key()).orElse(null);
      d.memoryMiB = match.model().map(m -> (long) m.memoryGiB() * 1024).orElse(null);
      d.healthy = true;
      hw.devices.add(d);
    }
    hw.backend = name();
    return hw;
  }

  @Override
  public int[] multiply(ChallengeMatrices matrices) {
    return matrices.product();
  }
}
