package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpumarket.agent.AgentMetrics;
import io.gpumarket.agent.NodeAgent;
import io.gpumarket.agent.SimulatedBackend;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.HeartbeatSpec;
import io.gpumarket.api.v1alpha1.Tier;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Real node agents, simulating their GPUs on the CPU, heartbeat against the mock API server: a host
 * is Ready while its heartbeats are fresh, and its GPUs leave the market when they stop.
 */
class HeartbeatTest {
  static NodeAgent agent(MockCluster cluster, String node, int gpus, String product) {
    NodeAgent agent =
        new NodeAgent(
            cluster.client,
            new SimulatedBackend(gpus, product, node),
            node,
            "gpumarket-system",
            new AgentMetrics());
    agent.start();
    return agent;
  }

  static String readyReason(Fleet fleet, String node) {
    return Conditions.find(fleet.getNode(node).getStatus().conditions, "Ready").get().getReason();
  }

  @Test
  void heartbeatsDecideReadinessAndObservedGpusWhatCanBeSold() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("gpumarket-system", Map.of());
      fleet.namespace("prov", Map.of());
      GpuNode spec = fleet.gpuNode("l4-box", "prov", Tier.EDGE, "eu", "l4", 4);
      spec.getSpec().heartbeat = new HeartbeatSpec();
      spec.getSpec().heartbeat.intervalSeconds = 1;
      spec.getSpec().heartbeat.graceSeconds = 3;
      cluster
          .client
          .resources(GpuNode.class)
          .withName("l4-box")
          .edit(
              n -> {
                n.getSpec().heartbeat = spec.getSpec().heartbeat;
                return n;
              });
      fleet.offer("prov", "l4", "prov", "l4", "0.50");
      TestOperator operator = TestOperator.start(cluster.client);

      NodeAgent first = agent(cluster, "l4-box", 4, "NVIDIA L4");
      await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(
              () -> {
                GpuNode n = fleet.getNode("l4-box");
                assertThat(readyReason(fleet, "l4-box")).isEqualTo("HeartbeatFresh");
                assertThat(n.getStatus().observed.backend).isEqualTo("simulated");
                assertThat(n.getStatus().observed.devices)
                    .hasSize(4)
                    .allMatch(d -> "l4".equals(d.model));
                assertThat(n.getStatus().lastHeartbeatTime).isNotNull();
                assertThat(n.getStatus().uptime.ratio1h).isEqualTo(1.0);
                assertThat(n.getStatus().uptime.upSince).isNotNull();
                assertThat(fleet.getOffer("prov", "l4").getStatus().availableGpus).isEqualTo(4);
                String metrics = MarketMetricsTest.scrape(operator.metrics);
                assertThat(metrics)
                    .contains("gpumarket_node_uptime_ratio{node=\"l4-box\",window=\"1h\",} 1.0")
                    .contains("gpumarket_node_heartbeat_age_seconds{node=\"l4-box\",}")
                    .contains("gpumarket_node_up{node=\"l4-box\",} 1.0")
                    .contains("gpumarket_node_challenges_total{result=\"Passed\",}")
                    .contains("gpumarket_node_challenge_duration_seconds_count");
              });

      first.close();
      await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(
              () -> {
                assertThat(readyReason(fleet, "l4-box")).isEqualTo("HeartbeatStale");
                assertThat(fleet.getNode("l4-box").getStatus().uptime.upSince).isNull();
                assertThat(fleet.getNode("l4-box").getStatus().allocatableGpus).isZero();
                assertThat(fleet.getOffer("prov", "l4").getStatus().availableGpus).isZero();
              });

      // Back with only two healthy GPUs: only two go back on the market.
      try (NodeAgent second = agent(cluster, "l4-box", 2, "NVIDIA L4")) {
        await()
            .atMost(Duration.ofSeconds(15))
            .untilAsserted(
                () -> {
                  assertThat(readyReason(fleet, "l4-box")).isEqualTo("HeartbeatFresh");
                  assertThat(fleet.getNode("l4-box").getStatus().allocatableGpus).isEqualTo(2);
                  assertThat(fleet.getOffer("prov", "l4").getStatus().availableGpus).isEqualTo(2);
                });
      }
      operator.close();
    }
  }
}
