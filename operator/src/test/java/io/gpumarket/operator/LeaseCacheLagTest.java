package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.JobPhase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each informer lags the API server on its own: a replica, or an operator just started, can see a
 * job's status naming its nodes before it sees the lease those nodes were bound through.
 */
class LeaseCacheLagTest {
  static final String NS = "team-a";

  @Test
  void aBoundJobWhoseLeaseTheCacheDoesNotShowYetKeepsRunningUntilTheLeaseIsReallyGone() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        fleet.create(Fleet.job(NS, "train", List.of("h100-80gb"), 2, 2, null));
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(() -> assertThat(fleet.pods(NS, "train")).hasSize(2));
      }
      ComputeJob job = fleet.getJob(NS, "train");
      assertThat(job.getStatus().nodes).containsExactly("dc-1", "dc-1");
      var run = TestOperator.jobRun(cluster.client);

      // The lease cache has not caught up: no lease passed in.
      step(run, fleet, job);
      assertThat(job.getStatus().phase).isEqualTo(JobPhase.Scheduled);
      assertThat(job.getStatus().message).doesNotContain("deleted");
      assertThat(fleet.pods(NS, "train")).hasSize(2);
      assertThat(fleet.getLease(NS, job.getStatus().lease).getSpec().release).isFalse();

      // Deleted for real, the lease takes the job down with the reason.
      var lease = cluster.client.resource(fleet.getLease(NS, job.getStatus().lease));
      lease.edit(
          l -> {
            l.getMetadata().setFinalizers(List.of());
            return l;
          });
      lease.delete();
      assertThat(fleet.getLease(NS, job.getStatus().lease)).isNull();
      step(run, fleet, job);
      assertThat(job.getStatus().phase).isEqualTo(JobPhase.Failed);
      assertThat(Conditions.find(job.getStatus().conditions, "Running").get().getReason())
          .isEqualTo("LeaseLost");
    }
  }

  private static void step(JobRun run, Fleet fleet, ComputeJob job) {
    run.step(job, null, fleet.pods(NS, "train"), List.of(job), fleet::getNode, Instant.now());
  }
}
