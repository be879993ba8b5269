package io.gpumarket.agent;

import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What the GPUs are doing now: utilization and memory used per device, read when asked (at each
 * scrape of {@code /metrics}), never cached. From NVML on a GPU host, made up from the agent's own
 * work by the simulation.
 */
public interface DeviceTelemetry extends AutoCloseable {
  /** No telemetry at all: a backend that cannot say. */
  DeviceTelemetry NONE =
      new DeviceTelemetry() {
        @Override
        public String source() {
          return "none";
        }

        @Override
        public boolean available() {
          return false;
        }

        @Override
        public List<DeviceSample> sample() {
          return List.of();
        }
      };

  /** {@code nvml} or {@code simulated}: the {@code source} label of the series. */
  String source();

  /** Whether {@link #sample()} can return anything. */
  boolean available();

  /** One reading per device this source sees; empty when unavailable. Never throws. */
  List<DeviceSample> sample();

  @Override
  default void close() {}

  /**
   * One device's reading; a value the device or driver did not give (NVML answers "not supported"
   * for some) is empty.
   *
   * @param uuid as NVML writes it, {@code GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}
   * @param utilization share of the last sample period a kernel ran, 0 to 1
   */
  record DeviceSample(
      String uuid,
      OptionalDouble utilization,
      OptionalLong memoryUsedBytes,
      OptionalLong memoryTotalBytes) {}
}
