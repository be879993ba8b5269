package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.gpumarket.agent.AgentMetrics;
import io.gpumarket.agent.NodeAgent;
import io.gpumarket.agent.SimulatedBackend;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.HeartbeatSpec;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.proof.Answer;
import io.gpumarket.proof.ChallengeMatrices;
import io.gpumarket.proof.Prover;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Compute challenges with real agents simulating their GPUs: an honest host is verified, a host
 * lying about its model and one forging answers are not, and say why.
 */
class VerificationTest {
  static Condition verified(Fleet fleet, String node) {
    return Conditions.find(fleet.getNode(node).getStatus().conditions, "Verified").orElseThrow();
  }

  static void fastHeartbeat(MockCluster cluster, String node) {
    cluster
        .client
        .resources(GpuNode.class)
        .withName(node)
        .edit(
            n -> {
              n.getSpec().heartbeat = new HeartbeatSpec();
              n.getSpec().heartbeat.intervalSeconds = 1;
              n.getSpec().heartbeat.graceSeconds = 5;
              return n;
            });
  }

  @Test
  void honestHostsAreVerifiedLiarsAndForgersAreNot() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("gpumarket-system", Map.of());
      fleet.namespace("prov", Map.of());
      fleet.namespace("team", Map.of("gpumarket.io/tenant", "true"));
      fleet.gpuNode("honest", "prov", Tier.DATACENTER, "eu", "l4", 2);
      fleet.gpuNode("liar", "prov", Tier.DATACENTER, "eu", "h100-80gb", 2);
      fleet.gpuNode("forger", "prov", Tier.DATACENTER, "eu", "t4", 2);
      for (String n : List.of("honest", "liar", "forger")) {
        fastHeartbeat(cluster, n);
      }
      fleet.offer("prov", "l4", "prov", "l4", "0.50");
      List<NodeAgent> agents = new ArrayList<>();
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        agents.add(
            new NodeAgent(
                cluster.client,
                new SimulatedBackend(2, "NVIDIA L4", "honest"),
                "honest",
                "gpumarket-system",
                new AgentMetrics()));
        agents.add(
            new NodeAgent(
                cluster.client,
                new SimulatedBackend(2, "NVIDIA GeForce RTX 3080", "liar"),
                "liar",
                "gpumarket-system",
                new AgentMetrics()));
        agents.add(
            new NodeAgent(
                    cluster.client,
                    new SimulatedBackend(2, "Tesla T4", "forger"),
                    "forger",
                    "gpumarket-system",
                    new AgentMetrics())
                .answeringWith(
                    c -> {
                      Answer honest = Prover.answer(c, "simulated", ChallengeMatrices::product);
                      List<Answer.RevealedRow> rows = new ArrayList<>(honest.rows());
                      int[] forged = rows.get(0).values().clone();
                      forged[0] ^= 1;
                      rows.set(
                          0,
                          new Answer.RevealedRow(rows.get(0).index(), forged, rows.get(0).path()));
                      return new Answer(
                          honest.nonce(),
                          honest.gpuNode(),
                          honest.rootHex(),
                          rows,
                          honest.elapsedMillis(),
                          honest.backend());
                    }));
        agents.forEach(NodeAgent::start);

        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> {
                  Condition ok = verified(fleet, "honest");
                  assertThat(ok.getStatus()).isEqualTo("True");
                  assertThat(ok.getReason()).isEqualTo("ChallengePassed");
                  assertThat(fleet.getNode("honest").getStatus().challenges.measuredOpsPerSecond)
                      .isPositive();

                  Condition lie = verified(fleet, "liar");
                  assertThat(lie.getStatus()).isEqualTo("False");
                  assertThat(lie.getReason()).isEqualTo("HardwareMismatch");
                  assertThat(lie.getMessage())
                      .isEqualTo("declared 2 h100-80gb but the agent found {rtx-3080=2}");
                  assertThat(fleet.getNode("liar").getStatus().allocatableGpus)
                      .as("nothing of what it claims is there")
                      .isZero();

                  Condition forged = verified(fleet, "forger");
                  assertThat(forged.getStatus()).isEqualTo("False");
                  assertThat(forged.getReason()).isEqualTo("BadMerklePath");
                  assertThat(fleet.getNode("forger").getStatus().challenges.failed).isPositive();
                });

        // A job that insists on verified hardware runs on the honest host.
        ComputeJob job = Fleet.job("team", "needs-proof", List.of("l4"), 1, 1, null);
        job.getSpec().gpu.requireVerified = true;
        fleet.create(job);
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  ComputeJob j = fleet.getJob("team", "needs-proof");
                  assertThat(j.getStatus().phase).isEqualTo(JobPhase.Scheduled);
                  assertThat(j.getStatus().nodes).containsExactly("honest");
                });
      } finally {
        agents.forEach(NodeAgent::close);
      }
    }
  }

  @Test
  void byDefaultAHostWhoseAgentSimulatesItsGpusIsNotVerified() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("gpumarket-system", Map.of());
      fleet.gpuNode("no-driver", "prov", Tier.DATACENTER, "eu", "l4", 2);
      fastHeartbeat(cluster, "no-driver");
      try (TestOperator operator =
              TestOperator.start(
                  cluster.client, TestOperator.Options.TESTS.withAcceptSimulatedGpus(false));
          NodeAgent agent =
              new NodeAgent(
                  cluster.client,
                  new SimulatedBackend(2, "NVIDIA L4", "no-driver"),
                  "no-driver",
                  "gpumarket-system",
                  new AgentMetrics())) {
        agent.start();
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> {
                  Condition c = verified(fleet, "no-driver");
                  assertThat(c.getStatus()).isEqualTo("False");
                  assertThat(c.getReason()).isEqualTo("SimulatedGpus");
                  assertThat(c.getMessage())
                      .contains("simulates its GPUs", "gpumarket.verification.accept-simulated");
                  assertThat(fleet.getNode("no-driver").getStatus().challenges.passed)
                      .as("its answers are right, computed on the CPU")
                      .isPositive();
                  assertThat(fleet.getNode("no-driver").getStatus().allocatableGpus)
                      .as("still sold to jobs that do not ask for verified hardware")
                      .isEqualTo(2);
                });
      }
    }
  }
}
