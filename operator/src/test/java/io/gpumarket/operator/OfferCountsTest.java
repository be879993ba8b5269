package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.gpumarket.api.v1alpha1.GpuOffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Every bind changes the counts of the offers selling its node; a busy market writes them at a
 * bounded rate, and they end up right.
 */
class OfferCountsTest {

  @Test
  void anOffersCountsAreWrittenAtMostOncePerIntervalAndEndUpRight() {
    Duration interval = Duration.ofSeconds(3);
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      List<Instant> countWrites = new CopyOnWriteArrayList<>();
      List<Integer> available = new CopyOnWriteArrayList<>();
      try (var watch =
              cluster
                  .client
                  .resources(GpuOffer.class)
                  .inNamespace("acme")
                  .withName("h100")
                  .watch(
                      new Watcher<>() {
                        @Override
                        public void eventReceived(Action action, GpuOffer offer) {
                          // Counts of a Ready offer: changes of its conditions are written at once.
                          Integer now =
                              offer.getStatus() == null
                                      || !Conditions.isTrue(offer.getStatus().conditions, "Ready")
                                  ? null
                                  : offer.getStatus().availableGpus;
                          if (now != null
                              && (available.isEmpty()
                                  || !available.get(available.size() - 1).equals(now))) {
                            available.add(now);
                            countWrites.add(Instant.now());
                          }
                        }

                        @Override
                        public void onClose(WatcherException e) {}
                      });
          TestOperator operator =
              TestOperator.start(
                  cluster.client, TestOperator.Options.TESTS.withOfferCountsInterval(interval))) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> !available.isEmpty() && available.get(available.size() - 1) == 8);

        int beforeJobs = countWrites.size();
        for (int i = 0; i < 6; i++) {
          fleet.create(Fleet.job("team-a", "j" + i, List.of("h100-80gb"), 1, 1, "3.00"));
        }

        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(() -> assertThat(available.get(available.size() - 1)).isEqualTo(2));
        // Between the writes the binds brought about: the write of the offer turning Ready came
        // before any job, and while the operator starts, its delivery to this watch can lag by
        // seconds, so that the first count write, on time, seemed to follow it at once.
        List<Duration> gaps = new ArrayList<>();
        for (int i = beforeJobs + 1; i < countWrites.size(); i++) {
          gaps.add(Duration.between(countWrites.get(i - 1), countWrites.get(i)));
        }
        // Six binds within a second or so, yet few writes, apart by the interval (less the watch's
        // jitter).
        assertThat(available).hasSizeLessThan(5);
        assertThat(gaps).allSatisfy(g -> assertThat(g).isGreaterThan(interval.minusMillis(500)));
      }
    }
  }

  @Test
  void allOffersTogetherWriteTheirCountsWithinTheBudget() {
    int providers = 6;
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("team-a", java.util.Map.of("gpumarket.io/tenant", "true"));
      for (int p = 0; p < providers; p++) {
        fleet.namespace("p" + p, java.util.Map.of());
        fleet.gpuNode(
            "dc-" + p, "p" + p, io.gpumarket.api.v1alpha1.Tier.DATACENTER, "eu", "h100-80gb", 8);
        fleet.offer("p" + p, "h100", "p" + p, "h100-80gb", "2.0" + p);
      }
      java.util.Map<String, Integer> available = new java.util.concurrent.ConcurrentHashMap<>();
      List<Instant> countWrites = new CopyOnWriteArrayList<>();
      try (var watch =
              cluster
                  .client
                  .resources(GpuOffer.class)
                  .inAnyNamespace()
                  .watch(
                      new Watcher<>() {
                        @Override
                        public void eventReceived(Action action, GpuOffer offer) {
                          if (offer.getStatus() == null
                              || !Conditions.isTrue(offer.getStatus().conditions, "Ready")) {
                            return;
                          }
                          Integer was =
                              available.put(
                                  offer.getMetadata().getNamespace(),
                                  offer.getStatus().availableGpus);
                          if (was != null && !was.equals(offer.getStatus().availableGpus)) {
                            countWrites.add(Instant.now());
                          }
                        }

                        @Override
                        public void onClose(WatcherException e) {}
                      });
          TestOperator operator =
              TestOperator.start(
                  cluster.client, TestOperator.Options.TESTS.withOfferCountsWritesPerSecond(1))) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    available.size() == providers
                        && available.values().stream().allMatch(a -> a == 8));
        // Each job fills one host, so every offer's counts change, all within a second or so.
        for (int i = 0; i < providers; i++) {
          fleet.create(Fleet.job("team-a", "j" + i, List.of("h100-80gb"), 1, 8, "3.00"));
        }
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(() -> assertThat(available.values()).containsOnly(0).hasSize(providers));
        // A second's worth (two slots) at once, then one a second.
        assertThat(countWrites).hasSize(providers);
        assertThat(Duration.between(countWrites.get(0), countWrites.get(providers - 1)))
            .isGreaterThan(Duration.ofMillis((providers - 2) * 1000L - 500));
      }
    }
  }
}
