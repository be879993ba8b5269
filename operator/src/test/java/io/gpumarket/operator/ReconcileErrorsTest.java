package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.JobPhase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReconcileErrorsTest {
  @Test
  void aFailureBecomesOneReadableLineAndGoesAwayOnSuccess() {
    List<Condition> conditions = new ArrayList<>();
    var e =
        new KubernetesClientException(
            new StatusBuilder()
                .withCode(403)
                .withMessage("pods is forbidden: User cannot create\nsecond line")
                .build());
    ReconcileErrors.record(conditions, e, 3L);
    Condition c = conditions.get(0);
    assertThat(c.getType()).isEqualTo("HasErrors");
    assertThat(c.getReason()).isEqualTo("ApiError");
    assertThat(c.getObservedGeneration()).isEqualTo(3L);
    assertThat(c.getMessage())
        .isEqualTo(
            "reconcile failed, retrying: the API server answered 403: pods is forbidden: User cannot create");

    ReconcileErrors.record(conditions, new IllegalStateException("x".repeat(1000)), 3L);
    assertThat(conditions).hasSize(1);
    assertThat(conditions.get(0).getMessage()).hasSize(300).doesNotContain("\tat ");

    ReconcileErrors.clear(conditions);
    assertThat(conditions).isEmpty();
  }

  @Test
  void theErrorGoesOntoTheServersCopyAndNothingOfTheFailedReconcile() {
    try (MockCluster c = new MockCluster()) {
      ComputeJob created = c.fleet.create(Fleet.job("team", "train", List.of("l4"), 1, 1, "2.00"));
      // The cache still holds the job as created; meanwhile the operator's last write made it
      // Scheduled.
      ComputeJob cached = c.fleet.getJob("team", "train");
      ComputeJob written = c.fleet.getJob("team", "train");
      written.setStatus(new ComputeJobStatus());
      written.getStatus().phase = JobPhase.Scheduled;
      Conditions.set(
          written.getStatus().conditions, "Scheduled", true, "PodsCreated", "1 pod", 1L, NOW);
      c.client.resource(written).updateStatus();
      // The failed reconcile had begun to change the status of its copy.
      cached.setStatus(new ComputeJobStatus());
      cached.getStatus().phase = JobPhase.Failed;

      boolean wrote =
          ReconcileErrors.write(
              c.client, cached, new IllegalStateException("boom"), ReconcileErrorsTest::conditions);

      ComputeJob now = c.fleet.getJob("team", "train");
      assertThat(wrote).isTrue();
      assertThat(now.getStatus().phase).isEqualTo(JobPhase.Scheduled);
      assertThat(now.getStatus().conditions)
          .extracting(Condition::getType, Condition::getReason)
          .containsExactly(tuple("Scheduled", "PodsCreated"), tuple("HasErrors", "InternalError"));
      assertThat(created.getMetadata().getGeneration())
          .isEqualTo(now.getStatus().conditions.get(1).getObservedGeneration());
    }
  }

  @Test
  void aJobDeletedMeanwhileIsNotWritten() {
    try (MockCluster c = new MockCluster()) {
      ComputeJob job = c.fleet.create(Fleet.job("team", "gone", List.of("l4"), 1, 1, "2.00"));
      c.client.resource(job).withGracePeriod(0).delete();
      assertThat(
              ReconcileErrors.write(
                  c.client,
                  job,
                  new IllegalStateException("boom"),
                  ReconcileErrorsTest::conditions))
          .isFalse();
    }
  }

  private static final java.time.Instant NOW = java.time.Instant.parse("2026-11-22T12:00:00Z");

  private static List<Condition> conditions(ComputeJob job) {
    if (job.getStatus() == null) {
      job.setStatus(new ComputeJobStatus());
    }
    return job.getStatus().conditions;
  }
}
