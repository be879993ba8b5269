package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.operator.sandbox.StrictCrudDispatcher;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A real API server admits pods against its cache of the namespace's quota, which can lag the
 * operator's raising it for a new lease: the first pods of a job are then refused for a moment.
 */
class QuotaRefusalTest {

  /** Answers the first pod creates with an error the API server gives, then creates them. */
  static class RefusedPods extends StrictCrudDispatcher {
    final AtomicInteger refusals;
    private final int code;
    private final String status;
    volatile long firstRefusedAt;
    volatile long createdAt;

    RefusedPods(int refusals, int code, String status) {
      this.refusals = new AtomicInteger(refusals);
      this.code = code;
      this.status = status;
    }

    @Override
    public synchronized MockResponse handleCreate(RecordedRequest request) {
      if (!request.getPath().matches(".*/namespaces/[^/]+/pods(\\?.*)?")) {
        return super.handleCreate(request);
      }
      if (refusals.getAndDecrement() > 0) {
        if (firstRefusedAt == 0) {
          firstRefusedAt = System.nanoTime();
        }
        return new MockResponse().setResponseCode(code).setBody(status);
      }
      createdAt = System.nanoTime();
      return super.handleCreate(request);
    }
  }

  /** Refuses the first pod creates as kube-apiserver's quota admission words it. */
  static final class LaggingQuota extends RefusedPods {
    LaggingQuota(int refusals) {
      super(
          refusals,
          403,
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
              + "\"message\":\"pods \\\"train-a1-r0\\\" is forbidden: exceeded quota: gpumarket-gpus,"
              + " requested: requests.nvidia.com/gpu=4, used: requests.nvidia.com/gpu=0,"
              + " limited: requests.nvidia.com/gpu=0\"}");
    }
  }

  /**
   * Answers the first pod create with the 409 kube-apiserver's quota admission gives when another
   * create in the namespace updated the quota's usage at the same moment: the pod was not made.
   */
  static final class ContendedQuota extends RefusedPods {
    ContendedQuota() {
      super(
          1,
          409,
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,"
              + "\"details\":{\"name\":\"gpumarket-gpus\",\"kind\":\"resourcequotas\"},"
              + "\"message\":\"Operation cannot be fulfilled on resourcequotas \\\"gpumarket-gpus\\\":"
              + " the object has been modified; please apply your changes to the latest version"
              + " and try again\"}");
    }
  }

  @Test
  void podsRefusedByALaggingQuotaAreCreatedAgainWithinSecondsAndTheJobSaysWhyMeanwhile() {
    LaggingQuota quota = new LaggingQuota(2);
    try (MockCluster cluster = new MockCluster(quota)) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      Set<String> reasons = ConcurrentHashMap.newKeySet();
      try (var watch =
              cluster
                  .client
                  .resources(ComputeJob.class)
                  .inNamespace("team-a")
                  .watch(
                      new Watcher<>() {
                        @Override
                        public void eventReceived(Action action, ComputeJob job) {
                          if (job.getStatus() != null) {
                            job.getStatus().conditions.forEach(c -> reasons.add(c.getReason()));
                          }
                        }

                        @Override
                        public void onClose(WatcherException e) {}
                      });
          TestOperator operator = TestOperator.start(cluster.client)) {
        submitTrain(fleet);
        // Two refusals a second apart, not a failed reconcile's backoff (2 s, then 3 s).
        awaitPodWithinSecondsOfRefusal(quota, fleet, Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(5)).until(() -> reasons.contains("PodsRefusedByQuota"));
        // Said as a state of the job, not as a failed reconcile.
        assertThat(reasons).doesNotContain("ApiError", "InternalError");
      }
    }
  }

  @Test
  void aPodTurnedAwayByAConflictOnTheQuotaIsCreatedAgainWithinSeconds() {
    ContendedQuota quota = new ContendedQuota();
    try (MockCluster cluster = new MockCluster(quota)) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        submitTrain(fleet);
        // Not at the job's next look without an event (minutes): the conflict said nothing of
        // the pod's name being taken.
        awaitPodWithinSecondsOfRefusal(quota, fleet, Duration.ofSeconds(10));
      }
    }
  }

  /**
   * The job's pod is made, after every refusal {@code quota} was to give, less than 4 s after the
   * first.
   */
  private static void awaitPodWithinSecondsOfRefusal(
      RefusedPods quota, Fleet fleet, Duration atMost) {
    await().atMost(atMost).until(() -> fleet.pods("team-a", "train").size() == 1);
    assertThat(quota.refusals.get()).isNegative();
    assertThat(Duration.ofNanos(quota.createdAt - quota.firstRefusedAt))
        .isLessThan(Duration.ofSeconds(4));
  }

  /** Once the operator has seen the offer, a job of one replica of 4 H100s, "train". */
  private static void submitTrain(Fleet fleet) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> fleet.getOffer("acme", "h100").getStatus() != null);
    fleet.create(Fleet.job("team-a", "train", List.of("h100-80gb"), 1, 4, "3.00"));
  }

  @Test
  void aLastingRefusalIsToldInOneWarningAndAskedLessAndLessOften() {
    LaggingQuota quota = new LaggingQuota(Integer.MAX_VALUE);
    try (MockCluster cluster = new MockCluster(quota)) {
      Fleet fleet = cluster.fleet;
      fleet.oneH100Host();
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        submitTrain(fleet);
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    fleet.getJob("team-a", "train").getStatus() != null
                        && "PodsRefusedByQuota"
                            .equals(
                                Conditions.find(
                                        fleet.getJob("team-a", "train").getStatus().conditions,
                                        "Running")
                                    .map(c -> c.getReason())
                                    .orElse(null)));
      }
      var run = TestOperator.jobRun(cluster.client);
      java.time.Instant start = java.time.Instant.parse("2026-12-06T12:00:00Z");
      List<Duration> retries = new java.util.ArrayList<>();
      for (int seconds : new int[] {0, 1, 12, 40, 300, 400}) {
        ComputeJob job = fleet.getJob("team-a", "train");
        retries.add(
            run.step(
                job,
                fleet.getLease("team-a", job.getStatus().lease),
                fleet.pods("team-a", "train"),
                List.of(job),
                fleet::getNode,
                start.plusSeconds(seconds)));
      }
      assertThat(retries)
          .containsExactly(
              Duration.ofSeconds(1),
              Duration.ofSeconds(1),
              Duration.ofSeconds(3),
              Duration.ofSeconds(10),
              Duration.ofMinutes(1),
              Duration.ofMinutes(1));
      assertThat(cluster.client.v1().events().inNamespace("team-a").list().getItems())
          .filteredOn(e -> "PodsRefusedByQuota".equals(e.getReason()))
          .singleElement()
          .satisfies(
              e -> {
                assertThat(e.getType()).isEqualTo("Warning");
                assertThat(e.getMessage())
                    .contains("ResourceQuota gpumarket-gpus refused pod", "for 40 s now");
              });
    }
  }
}
