package io.gpumarket.agent;

import io.gpumarket.api.v1alpha1.ObservedDevice;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;

/** The agent's own health and what it found, on its /metrics. */
public final class AgentMetrics {
  private final CollectorRegistry registry = new CollectorRegistry();
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

  public CollectorRegistry registry() {
    return registry;
  }

  void observed(ObservedHardware hw) {
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
}
