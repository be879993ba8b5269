package io.gpumarket.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.gpumarket.proof.ChallengeMatrices;
import io.prometheus.client.exporter.HTTPServer;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Device telemetry on the agent's /metrics, as Prometheus reads it. */
class AgentMetricsTest {
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)");

  @Test
  void simulatedDevicesServeUtilizationAndMemoryUsedLabelledSimulated() throws Exception {
    SimulatedBackend backend =
        (SimulatedBackend)
            Backends.select(
                Map.of(
                    "GPUMARKET_BACKEND", "simulated",
                    "GPUMARKET_SIMULATE_GPUS", "2",
                    "GPUMARKET_SIMULATE_PRODUCT", "NVIDIA L4",
                    "GPUMARKET_SIMULATE_UTILIZATION", "0.25"),
                "edge-7");
    AgentMetrics metrics = new AgentMetrics();
    metrics.telemetry("edge-7", backend.telemetry());
    ObservedHardware hw = backend.discover();
    metrics.observed(hw);

    String text;
    try (HTTPServer server =
        new HTTPServer(new InetSocketAddress("127.0.0.1", 0), metrics.registry(), true)) {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.getPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      text = response.body();
    }

    String uuid0 = hw.devices.get(0).uuid;
    String uuid1 = hw.devices.get(1).uuid;
    assertThat(text)
        .contains("# TYPE gpumarket_agent_nvml_available gauge")
        .contains("gpumarket_agent_nvml_available 0.0")
        .contains("# TYPE gpumarket_agent_device_utilization_ratio gauge")
        .contains("# TYPE gpumarket_agent_device_memory_used_bytes gauge")
        .contains(
            "gpumarket_agent_device_utilization_ratio{node=\"edge-7\",device=\"0\",uuid=\""
                + uuid0
                + "\",model=\"l4\",source=\"simulated\",} 0.25")
        .contains(
            "gpumarket_agent_device_utilization_ratio{node=\"edge-7\",device=\"1\",uuid=\""
                + uuid1
                + "\",model=\"l4\",source=\"simulated\",} 0.25")
        .contains(
            "gpumarket_agent_device_memory_used_bytes{node=\"edge-7\",device=\"0\",uuid=\""
                + uuid0
                + "\",model=\"l4\",source=\"simulated\",} 0.0")
        .contains(
            "gpumarket_agent_device_memory_bytes{uuid=\""
                + uuid0
                + "\",model=\"l4\",} "
                + hw.devices.get(0).memoryMiB * 1024.0 * 1024.0);
    assertValidExposition(text);
  }

  @Test
  void device0IsBusyAndHoldsTheChallengeWhileOneIsComputed() throws Exception {
    SimulatedBackend backend = new SimulatedBackend(2, "NVIDIA L4", "edge-8", 0.1);
    AgentMetrics metrics = new AgentMetrics();
    metrics.telemetry("edge-8", backend.telemetry());
    metrics.observed(backend.discover());
    assertThat(value(scrape(metrics), AgentMetrics.UTILIZATION, "device=\"0\"")).isEqualTo(0.1);

    int n = 768;
    ChallengeMatrices m = ChallengeMatrices.derive("busy", n);
    CompletableFuture<int[]> product = CompletableFuture.supplyAsync(() -> backend.multiply(m));
    boolean seenBusy = false;
    while (!product.isDone() && !seenBusy) {
      String text = scrape(metrics);
      if (value(text, AgentMetrics.UTILIZATION, "device=\"0\"") == 1.0) {
        seenBusy = true;
        assertThat(value(text, AgentMetrics.MEMORY_USED, "device=\"0\""))
            .as("both int8 matrices and the int32 product")
            .isEqualTo(n * n * 6.0);
        assertThat(value(text, AgentMetrics.UTILIZATION, "device=\"1\"")).isEqualTo(0.1);
        assertThat(value(text, AgentMetrics.MEMORY_USED, "device=\"1\"")).isZero();
      }
      Thread.sleep(1);
    }
    assertThat(seenBusy).as("device 0 busy while the product was computed").isTrue();
    product.get();
    String after = scrape(metrics);
    assertThat(value(after, AgentMetrics.UTILIZATION, "device=\"0\"")).isEqualTo(0.1);
    assertThat(value(after, AgentMetrics.MEMORY_USED, "device=\"0\"")).isZero();
  }

  @Test
  void nvmlReadingsAreMatchedToTheDevicesCudaFoundByUuid() throws Exception {
    try (NvmlTelemetry nvml = NvmlTelemetry.open(FakeNvml.build("fake-nvml.so").toString())) {
      AgentMetrics metrics = new AgentMetrics();
      metrics.telemetry("dc-1", nvml);
      // CUDA sees only the stand-in's device 1 (as with CUDA_VISIBLE_DEVICES=1), as its ordinal 0.
      ObservedHardware hw = new ObservedHardware();
      hw.backend = "cuda";
      var d = new io.gpumarket.api.v1alpha1.ObservedDevice();
      d.index = 0;
      d.uuid = "GPU-00000001-1111-2222-3333-444444444444";
      d.model = "h100-80gb";
      d.memoryMiB = 80L * 1024;
      hw.devices.add(d);
      metrics.observed(hw);

      String text = scrape(metrics);
      assertThat(text)
          .contains("gpumarket_agent_nvml_available 1.0")
          .contains(
              "gpumarket_agent_device_memory_used_bytes{node=\"dc-1\",device=\"0\",uuid=\"GPU-00000001-1111-2222-3333-444444444444\",model=\"h100-80gb\",source=\"nvml\",} 5.368709121E9")
          .doesNotContain("GPU-00000000-1111-2222-3333-444444444444")
          .as("the stand-in's device 1 gives no utilization")
          .doesNotContain("gpumarket_agent_device_utilization_ratio{");
      assertValidExposition(text);
      nvml.close();
      assertThat(scrape(metrics))
          .contains("gpumarket_agent_nvml_available 0.0")
          .doesNotContain("gpumarket_agent_device_memory_used_bytes{");
    }
  }

  @Test
  void withoutTelemetryOnlyTheNvmlGaugeIsServed() throws Exception {
    String text = scrape(new AgentMetrics());
    assertThat(text)
        .contains("gpumarket_agent_nvml_available 0.0")
        .doesNotContain("gpumarket_agent_device_utilization_ratio{");
    assertValidExposition(text);
  }

  private static String scrape(AgentMetrics metrics) throws Exception {
    StringWriter out = new StringWriter();
    TextFormat.write004(out, metrics.registry().metricFamilySamples());
    return out.toString();
  }

  /** The one sample in a scrape of a metric whose labels contain the given one. */
  private static double value(String scrape, String name, String label) {
    List<Double> values =
        scrape
            .lines()
            .filter(l -> l.startsWith(name + "{") && l.contains(label))
            .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
            .toList();
    assertThat(values).as(name + " " + label).hasSize(1);
    return values.get(0);
  }

  /**
   * What {@code promtool check metrics} insists on: every sample line parses, its metric has HELP
   * and TYPE, names are snake case, and gauges of a unit end in it.
   */
  private static void assertValidExposition(String text) {
    for (String line : text.lines().toList()) {
      if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
        String name = line.split(" ")[2];
        assertThat(name).matches("[a-z][a-z0-9_]*");
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as(line).isTrue();
      String name = m.group(1);
      String family = name.replaceAll("_(total|created)$", "");
      assertThat(text).as(line).contains("# HELP " + family + " ", "# TYPE " + family + " ");
      Double.parseDouble(m.group(3));
    }
  }
}
