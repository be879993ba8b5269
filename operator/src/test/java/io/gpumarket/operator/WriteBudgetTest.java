package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WriteBudgetTest {
  static final long SECOND = 1_000_000_000L;

  @Test
  void manyObjectsAtOnceWriteASecondsWorthThenOneEverySpacing() {
    WriteBudget<String> budget = new WriteBudget<>(10, "writes-per-second");
    long t0 = 5 * SECOND;
    List<Duration> waits = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      waits.add(budget.waitFor("offer-" + i, t0));
    }
    // The slots of the last second, now's included, are free.
    assertThat(waits.subList(0, 11)).allMatch(Duration::isZero);
    for (int i = 11; i < 30; i++) {
      assertThat(waits.get(i)).isEqualTo(Duration.ofMillis(100L * (i - 10)));
    }
    assertThat(budget.waiting()).isEqualTo(19);

    // An object that asks again keeps its slot, and writes when it comes.
    assertThat(budget.waitFor("offer-15", t0 + 4 * SECOND / 10)).isEqualTo(Duration.ofMillis(100));
    assertThat(budget.waitFor("offer-15", t0 + 5 * SECOND / 10)).isZero();
    assertThat(budget.waiting()).isEqualTo(18);
    // A newcomer queues behind all the others.
    assertThat(budget.waitFor("late", t0 + 5 * SECOND / 10)).isEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void slotsOfObjectsThatNeverCameBackAreDroppedAndARateMustBePositive() {
    WriteBudget<String> budget = new WriteBudget<>(1, "writes-per-second");
    budget.waitFor("a", 0);
    budget.waitFor("b", 0);
    assertThat(budget.waitFor("gone", 0)).isEqualTo(Duration.ofSeconds(1));
    budget.forget("nobody");
    assertThat(budget.waiting()).isEqualTo(1);
    assertThat(budget.waitFor("c", 120 * SECOND)).isZero();
    assertThat(budget.waiting()).isZero();
    assertThatThrownBy(() -> new WriteBudget<String>(0, "gpumarket.offer.counts-writes-per-second"))
        .hasMessageContaining("gpumarket.offer.counts-writes-per-second");
  }
}
