package io.gpumarket.agent;

import io.gpumarket.api.v1alpha1.ObservedDevice;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.GaugeMetricFamily;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's own health and what it found, on its /metrics. Device utilization and memory used are
 * read from the backend's {@link DeviceTelemetry} at each scrape, so they are never stale.
 */
public final class AgentMetrics {
  static final String NVML_AVAILABLE = "gpumarket_agent_nvml_available";
  static final String UTILIZATION = "gpumarket_agent_device_utilization_ratio";
  static final String MEMORY_USED = "gpumarket_agent_device_memory_used_bytes";
  private static final List<String> DEVICE_LABELS =
      List.of("node", "device", "uuid", "model", "source");
  private static final String DEVICE_LABELS_HELP =
      " node is the GpuNode, device the CUDA ordinal, uuid the device UUID, model the catalog key"
          + " (unknown if none); source is nvml (read from the driver) or simulated (no GPU here:"
          + " made up from the agent's own work, as said above).";

  private final CollectorRegistry registry = new CollectorRegistry();
  private volatile String node = "";
  private volatile DeviceTelemetry telemetry = DeviceTelemetry.NONE;
  private volatile List<ObservedDevice> found = List.of();
  private final Gauge devices =
      Gauge.build()
          .name("gpumarket_agent_gpus")
          .help("GPU devices the agent found; backend is cuda or simulated.")
          .labelNames("backend")
          .register(registry);
  private final Gauge memory =
      Gauge.build()
          .name("gpumarket_agent_device_memory_bytes")
          .help("Memory of each GPU device, by device UUID and canonical model.")
          .labelNames("uuid", "model")
          .register(registry);
  private final Counter heartbeats =
      Counter.build()
          .name("gpumarket_agent_heartbeats_total")
          .help(
              "Heartbeat renewals by result: ok, or failed (the API server refused or was unreachable).")
          .labelNames("result")
          .register(registry);
  private final Gauge lastHeartbeat =
      Gauge.build()
          .name("gpumarket_agent_last_heartbeat_timestamp_seconds")
          .help("Unix time of the last heartbeat the API server accepted.")
          .register(registry);

  public AgentMetrics() {
    new DeviceCollector().register(registry);
  }

  public CollectorRegistry registry() {
    return registry;
  }

  /** Where device telemetry comes from, and the GpuNode its series are labelled with. */
  void telemetry(String node, DeviceTelemetry telemetry) {
    this.node = node;
    this.telemetry = telemetry;
  }

  void observed(ObservedHardware hw) {
    found = List.copyOf(hw.devices);
    devices.clear();
    devices.labels(hw.backend).set(hw.devices.size());
    for (ObservedDevice d : hw.devices) {
      if (d.memoryMiB != null) {
        memory
            .labels(d.uuid, d.model == null ? "unknown" : d.model)
            .set(d.memoryMiB * 1024.0 * 1024.0);
      }
    }
  }

  void heartbeat(boolean ok) {
    heartbeats.labels(ok ? "ok" : "failed").inc();
    if (ok) {
      lastHeartbeat.setToCurrentTime();
    }
  }

  /**
   * Reads the telemetry at scrape time and labels each reading with the device the backend found
   * under the same UUID; a device the backend did not find (hidden from CUDA, say) is left out.
   */
  private final class DeviceCollector extends Collector implements Collector.Describable {
    @Override
    public List<MetricFamilySamples> collect() {
      DeviceTelemetry source = telemetry;
      GaugeMetricFamily nvml = nvmlAvailable();
      nvml.addMetric(List.of(), source.source().equals("nvml") && source.available() ? 1 : 0);
      GaugeMetricFamily utilization = utilization();
      GaugeMetricFamily memoryUsed = memoryUsed();
      Map<String, ObservedDevice> byUuid = new HashMap<>();
      for (ObservedDevice d : found) {
        if (d.uuid != null) {
          byUuid.put(d.uuid.toLowerCase(Locale.ROOT), d);
        }
      }
      for (DeviceTelemetry.DeviceSample s : source.sample()) {
        ObservedDevice d = s.uuid() == null ? null : byUuid.get(s.uuid().toLowerCase(Locale.ROOT));
        if (d == null) {
          continue;
        }
        List<String> labels =
            List.of(
                node,
                Integer.toString(d.index),
                d.uuid,
                d.model == null ? "unknown" : d.model,
                source.source());
        s.utilization().ifPresent(v -> utilization.addMetric(labels, v));
        s.memoryUsedBytes().ifPresent(v -> memoryUsed.addMetric(labels, v));
      }
      return List.of(nvml, utilization, memoryUsed);
    }

    @Override
    public List<MetricFamilySamples> describe() {
      return List.of(nvmlAvailable(), utilization(), memoryUsed());
    }

    private GaugeMetricFamily nvmlAvailable() {
      return new GaugeMetricFamily(
          NVML_AVAILABLE,
          "1 when NVML (libnvidia-ml.so.1) is loaded and answers, so device utilization and memory"
              + " used come from the driver; 0 without it (no driver, a container without the"
              + " utility capability, or the simulated backend).",
          List.of());
    }

    private GaugeMetricFamily utilization() {
      return new GaugeMetricFamily(
          UTILIZATION,
          "Share of the last sample period (NVML: 1/6 s to 1 s) in which a kernel ran on the"
              + " device, 0 to 1. Simulated: 1 on device 0 while the agent computes a challenge,"
              + " GPUMARKET_SIMULATE_UTILIZATION (default 0) otherwise."
              + DEVICE_LABELS_HELP,
          DEVICE_LABELS);
    }

    private GaugeMetricFamily memoryUsed() {
      return new GaugeMetricFamily(
          MEMORY_USED,
          "Device memory in use by all processes; the total is gpumarket_agent_device_memory_bytes."
              + " Simulated: on device 0 the buffers of the challenge being computed, 0 otherwise."
              + DEVICE_LABELS_HELP,
          DEVICE_LABELS);
    }
  }
}
