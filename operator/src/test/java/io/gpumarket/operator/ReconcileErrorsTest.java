package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
}
