package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.ObjectRef;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The copy a reconcile takes of a status before changing it, and the check that it changed. */
class StatusDiffTest {
  @Test
  void aCopyIsIndependentOfTheStatusItWasTakenFromSoChangesToEitherAreSeen() {
    GpuNodeStatus status = new GpuNodeStatus();
    status.allocatableGpus = 4;
    status.allocations.add(
        new GpuAllocation(new ObjectRef("team", "l"), "uid", new ObjectRef("p", "o"), 2));
    Conditions.set(status.conditions, "Ready", true, "Heartbeat", "up", 1L, Instant.EPOCH);

    GpuNodeStatus before = StatusDiff.copy(status);
    assertThat(before).isNotSameAs(status);
    assertThat(StatusDiff.changed(before, status)).isFalse();

    status.allocations.get(0).gpus = 3;
    assertThat(before.allocations.get(0).gpus).isEqualTo(2);
    assertThat(StatusDiff.changed(before, status)).isTrue();

    GpuNodeStatus again = StatusDiff.copy(status);
    Conditions.set(again.conditions, "Ready", false, "HeartbeatStale", "down", 1L, Instant.EPOCH);
    assertThat(Conditions.isTrue(status.conditions, "Ready")).isTrue();
    assertThat(StatusDiff.changed(again, status)).isTrue();
  }
}
