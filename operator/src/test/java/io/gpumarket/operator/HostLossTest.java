package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.NodeFailurePolicy;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A host dies under a running job: the job moves to another host, or fails if it asked to. */
class HostLossTest {
  static final String NS = "team";

  @Test
  void aJobOnAHostThatDiesIsRescheduledAndKeepsWhatWasBilled() throws InterruptedException {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.cheapAndDearHosts(NS, "1.00", "3.00");
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        fleet.create(Fleet.job(NS, "train", List.of("h100-80gb"), 1, 4, null));
        ComputeJob strict = Fleet.job(NS, "strict", List.of("h100-80gb"), 1, 4, null);
        strict.getSpec().nodeFailurePolicy = NodeFailurePolicy.Fail;
        fleet.create(strict);
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  assertThat(fleet.getJob(NS, "train").getStatus().nodes)
                      .containsExactly("cheap-1");
                  assertThat(fleet.getJob(NS, "strict").getStatus().nodes)
                      .containsExactly("cheap-1");
                  assertThat(fleet.pods(NS, "train")).hasSize(1);
                });
        fleet.setPodPhases(NS, "train", "Running");
        fleet.setPodPhases(NS, "strict", "Running");
        String firstLease = fleet.getJob(NS, "train").getStatus().lease;
        Thread.sleep(1100);

        fleet.setNodeReady("cheap-1", false);
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(
                            Conditions.find(
                                fleet.getJob(NS, "train").getStatus().conditions, "HostLost"))
                        .isPresent());

        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  ComputeJob moved = fleet.getJob(NS, "train");
                  assertThat(moved.getStatus().nodes).containsExactly("dear-1");
                  assertThat(moved.getStatus().lease).isNotEqualTo(firstLease).endsWith("-r2");
                  assertThat(moved.getStatus().pricePerGpuHour).isEqualTo("3.00");
                  assertThat(fleet.getLease(NS, firstLease).getStatus().phase)
                      .isEqualTo(LeasePhase.Released);
                  assertThat(new BigDecimal(moved.getStatus().priorCost)).isPositive();
                  assertThat(new BigDecimal(moved.getStatus().cost))
                      .isGreaterThanOrEqualTo(new BigDecimal(moved.getStatus().priorCost));
                  assertThat(fleet.pods(NS, "train"))
                      .singleElement()
                      .satisfies(
                          p -> assertThat(p.getMetadata().getName()).isEqualTo("train-a2-r0"));
                  assertThat(fleet.getNode("cheap-1").getStatus().leasedGpus).isZero();

                  ComputeJob failed = fleet.getJob(NS, "strict");
                  assertThat(failed.getStatus().phase).isEqualTo(JobPhase.Failed);
                  assertThat(failed.getStatus().message).startsWith("cheap-1 not ready since");
                });
      }
    }
  }
}
