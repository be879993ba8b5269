package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ChangeCountedListTest {
  @Test
  void aListIsTakenAgainOnlyAfterAChangeThatMatters() {
    ChangeCountedList<String> offers = new ChangeCountedList<>();
    List<String> cache = new ArrayList<>(List.of("a"));
    AtomicInteger takes = new AtomicInteger();
    java.util.function.Supplier<List<String>> source =
        () -> {
          takes.incrementAndGet();
          return List.copyOf(cache);
        };

    assertThat(offers.list(source)).containsExactly("a");
    assertThat(offers.list(source)).containsExactly("a");
    assertThat(takes).hasValue(1);

    cache.add("b");
    assertThat(offers.changed(false)).isFalse();
    assertThat(offers.list(source)).as("a change the readers ignore").containsExactly("a");

    assertThat(offers.changed(true)).isTrue();
    assertThat(offers.list(source)).containsExactly("a", "b");
    assertThat(offers.list(source)).containsExactly("a", "b");
    assertThat(takes).hasValue(2);
  }

  @Test
  void aChangeCountedWhileAListIsTakenMakesTheNextCallerTakeItAgain() {
    ChangeCountedList<String> offers = new ChangeCountedList<>();
    List<String> cache = new ArrayList<>(List.of("a"));
    offers.list(
        () -> {
          List<String> taken = List.copyOf(cache);
          cache.add("b");
          offers.changed(true);
          return taken;
        });
    assertThat(offers.list(() -> List.copyOf(cache))).containsExactly("a", "b");
  }
}
