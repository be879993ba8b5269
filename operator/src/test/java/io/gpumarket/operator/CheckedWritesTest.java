package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CheckedWritesTest {
  private static final Duration RETRY = Duration.ofSeconds(1);

  @Test
  void aStatusWriteOnAnObjectDeletedMeanwhileEndsItsReconcilesQuietly() {
    try (MockCluster c = new MockCluster()) {
      ComputeJob read = c.fleet.create(Fleet.job("team", "gone", List.of("l4"), 1, 1, "2.00"));
      c.client.resource(read).withGracePeriod(0).delete();
      read.setStatus(new ComputeJobStatus());
      read.getStatus().phase = JobPhase.Scheduled;

      List<ComputeJob> passes = new ArrayList<>();
      boolean written = CheckedWrites.updateStatus(c.client, read);
      UpdateControl<ComputeJob> next =
          CheckedWrites.afterConflict(c.client, read, 1, pass(passes), RETRY);

      assertThat(written).isFalse();
      assertThat(passes).isEmpty();
      assertThat(next.getScheduleDelay()).isEmpty();
    }
  }

  @Test
  void afterAConflictTheReconcileRunsAgainFromTheServersNewerCopyThenWaits() {
    try (MockCluster c = new MockCluster()) {
      ComputeJob read = c.fleet.create(Fleet.job("team", "train", List.of("l4"), 1, 1, "2.00"));
      ComputeJob other = c.fleet.getJob("team", "train");
      other.setStatus(new ComputeJobStatus());
      other.getStatus().phase = JobPhase.Scheduled;
      c.client.resource(other).updateStatus();
      read.setStatus(new ComputeJobStatus());
      read.getStatus().phase = JobPhase.Failed;

      List<ComputeJob> passes = new ArrayList<>();
      boolean written = CheckedWrites.updateStatus(c.client, read);
      CheckedWrites.afterConflict(c.client, read, 1, pass(passes), RETRY);
      UpdateControl<ComputeJob> lastResort =
          CheckedWrites.afterConflict(c.client, read, 0, pass(passes), RETRY);

      assertThat(written).isFalse();
      assertThat(c.fleet.getJob("team", "train").getStatus().phase).isEqualTo(JobPhase.Scheduled);
      assertThat(passes)
          .singleElement()
          .satisfies(p -> assertThat(p.getStatus().phase).isEqualTo(JobPhase.Scheduled));
      assertThat(lastResort.getScheduleDelay()).contains(RETRY.toMillis());
    }
  }

  private static CheckedWrites.Pass<ComputeJob> pass(List<ComputeJob> passes) {
    return (fresh, left) -> {
      passes.add(fresh);
      return UpdateControl.noUpdate();
    };
  }
}
