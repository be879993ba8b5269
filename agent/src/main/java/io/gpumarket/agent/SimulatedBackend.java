package io.gpumarket.agent;

import io.gpumarket.api.v1alpha1.ObservedDevice;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.gpumarket.catalog.CatalogMatch;
import io.gpumarket.catalog.GpuCatalog;
import io.gpumarket.proof.ChallengeMatrices;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * No GPU here: reports the devices it is told to simulate and computes the challenge product on the
 * CPU, saying so in {@code backend: simulated}. Its telemetry follows its own work (see {@link
 * #telemetry()}). Used without a CUDA driver, in tests and in the sandbox.
 */
public final class SimulatedBackend implements GpuBackend {
  private final int count;
  private final String product;
  private final String host;
  private final double idleUtilization;

  /** Bytes of the challenges being computed: nonzero exactly while one is. */
  private final AtomicLong computingBytes = new AtomicLong();

  private final DeviceTelemetry telemetry = new Telemetry();

  /**
   * @param count how many devices to report
   * @param product the product name to report, as CUDA would (e.g. NVIDIA H100 80GB HBM3)
   * @param host seeds stable device UUIDs
   */
  public SimulatedBackend(int count, String product, String host) {
    this(count, product, host, 0.0);
  }

  /**
   * @param idleUtilization the utilization (0 to 1) its telemetry reports while no challenge is
   *     being computed
   */
  public SimulatedBackend(int count, String product, String host, double idleUtilization) {
    if (!(idleUtilization >= 0.0 && idleUtilization <= 1.0)) {
      throw new IllegalArgumentException(
          "simulated idle utilization must be within 0 and 1, not " + idleUtilization);
    }
    this.count = count;
    this.product = product;
    this.host = host;
    this.idleUtilization = idleUtilization;
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
      d.uuid = uuid(i);
      d.product = product;
      d.model = match.model().map(m -> m.key()).orElse(null);
      d.memoryMiB = match.model().map(m -> (long) m.memoryGiB() * 1024).orElse(null);
      d.healthy = true;
      hw.devices.add(d);
    }
    hw.backend = name();
    return hw;
  }

  private String uuid(int index) {
    return "GPU-" + UUID.nameUUIDFromBytes((host + "/" + index).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The product on the CPU. While it runs, device 0 (where the CUDA backend computes) counts as
   * busy and as using what the CUDA backend would allocate: both matrices and the int32 product.
   */
  @Override
  public int[] multiply(ChallengeMatrices matrices) {
    long n = matrices.size();
    long bytes = n * n * (1 + 1 + Integer.BYTES);
    computingBytes.addAndGet(bytes);
    try {
      return matrices.product();
    } finally {
      computingBytes.addAndGet(-bytes);
    }
  }

  /**
   * Telemetry made up from the agent's own work, labelled {@code source="simulated"}: device 0 is
   * fully utilized while a challenge is computed and uses that challenge's buffers; otherwise every
   * device reports the idle utilization and no memory used.
   */
  @Override
  public DeviceTelemetry telemetry() {
    return telemetry;
  }

  private final class Telemetry implements DeviceTelemetry {
    @Override
    public String source() {
      return "simulated";
    }

    @Override
    public boolean available() {
      return true;
    }

    @Override
    public List<DeviceSample> sample() {
      OptionalLong total =
          GpuCatalog.resolve(product)
              .model()
              .map(m -> OptionalLong.of(m.memoryGiB() * 1024L * 1024 * 1024))
              .orElse(OptionalLong.empty());
      long used = computingBytes.get();
      boolean busy = used > 0;
      List<DeviceSample> out = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        boolean computes = i == 0 && busy;
        out.add(
            new DeviceSample(
                uuid(i),
                OptionalDouble.of(computes ? 1.0 : idleUtilization),
                OptionalLong.of(computes ? used : 0),
                total));
      }
      return out;
    }
  }
}
