package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.api.model.ResourceQuotaStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.gpumarket.operator.sandbox.Sandbox;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The replay changes what the operator's write changed (a quota's limits, whatever the patch's
 * form), and sends a patch as a patch of that change alone; its creates wait for the quota
 * admission to enforce the limits raised for them; a kind it could not replay leaves no ceiling.
 */
class CeilingTest {
  @Test
  void theLimitsAQuotaWriteSetAreReadFromAMergePatchAJsonPatchOrAWholeObject() {
    assertThat(Ceiling.hardLimits("{\"spec\":{\"hard\":{\"requests.nvidia.com/gpu\":\"12\"}}}"))
        .containsExactly("requests.nvidia.com/gpu");
    assertThat(
            Ceiling.hardLimits(
                "[{\"op\":\"add\",\"path\":\"/spec/hard/requests.nvidia.com~1gpu\",\"value\":\"4\"}]"))
        .containsExactly("requests.nvidia.com/gpu");
    assertThat(
            Ceiling.hardLimits(
                "{\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":\"q\"},"
                    + "\"spec\":{\"hard\":{\"pods\":\"10\",\"requests.cpu\":\"8\"}}}"))
        .containsExactly("pods", "requests.cpu");
  }

  @Test
  void aWriteThatSetsNoLimitIsReplayedAsBefore() {
    assertThat(Ceiling.hardLimits("{\"metadata\":{\"finalizers\":[\"f\"]}}")).isEmpty();
    assertThat(
            Ceiling.hardLimits(
                "[{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[\"f\"]}]"))
        .isEmpty();
    assertThat(Ceiling.hardLimits("")).isEmpty();
    assertThat(Ceiling.hardLimits(null)).isEmpty();
  }

  @Test
  void aPatchIsReplayedAsAMergePatchOfWhatTheReplayChangedAlone() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode quota =
        (ObjectNode)
            json.readTree(
                "{\"metadata\":{\"name\":\"q\",\"generation\":1},"
                    + "\"spec\":{\"hard\":{\"requests.nvidia.com/gpu\":\"12\",\"pods\":\"9\"}},"
                    + "\"status\":{\"observedGeneration\":1,\"used\":{\"pods\":\"1\"}}}");
    // What goes on the wire: the patch, or the change an update applies.
    assertThat(Ceiling.change(quota, false, List.of("requests.nvidia.com/gpu"), 1))
        .hasToString("{\"spec\":{\"hard\":{\"requests.nvidia.com/gpu\":\"1000001\"}}}");
    assertThat(Ceiling.change(quota, true, List.of(), 0))
        .hasToString("{\"status\":{\"observedGeneration\":2}}");
    assertThat(Ceiling.change(quota, false, List.of(), 3))
        .hasToString("{\"metadata\":{\"annotations\":{\"bench.gpumarket.io/raw\":\"3\"}}}");
  }

  private static final String GPUS = "requests.nvidia.com/gpu";

  private static Resource<ResourceQuota> quota(KubernetesClient client) {
    return client.resourceQuotas().inNamespace("team-a").withName("gpumarket-gpus");
  }

  private static void createTeamA(KubernetesClient client) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName("team-a").endMetadata().build())
        .create();
  }

  @Test
  void createsAreReplayedOnlyOnceTheQuotaEnforcesTheLimitsRaisedForThem() throws Exception {
    ScheduledExecutorService controller = Executors.newSingleThreadScheduledExecutor();
    try (Sandbox sandbox = Sandbox.start()) {
      KubernetesClient client = sandbox.client();
      createTeamA(client);
      ResourceQuota quota =
          client
              .resourceQuotas()
              .inNamespace("team-a")
              .resource(
                  new ResourceQuotaBuilder()
                      .withNewMetadata()
                      .withName("gpumarket-gpus")
                      .endMetadata()
                      .withNewSpec()
                      .addToHard(GPUS, new Quantity("2"))
                      .endSpec()
                      .build())
              .create();
      quota.setStatus(new ResourceQuotaStatus(Map.of(GPUS, new Quantity("2")), Map.of()));
      client.resource(quota).updateStatus();
      // The controller manager's part: it copies a quota's limits to its status, 300 ms late.
      AtomicLong behindSince = new AtomicLong();
      controller.scheduleWithFixedDelay(
          () -> {
            ResourceQuota q = quota(client).get();
            if (q.getSpec().getHard().equals(q.getStatus().getHard())) {
              behindSince.set(0);
            } else if (behindSince.compareAndSet(0, System.nanoTime())) {
              return;
            } else if (System.nanoTime() - behindSince.get() > 300_000_000L) {
              q.getStatus().setHard(q.getSpec().getHard());
              client.resource(q).updateStatus();
            }
          },
          0,
          20,
          TimeUnit.MILLISECONDS);
      // What the quota admission would enforce as each replayed create arrives.
      List<String> enforcedAtCreates = new CopyOnWriteArrayList<>();
      Interceptor admission =
          new Interceptor() {
            @Override
            public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
              if (request.method().equals("POST") && request.uri().getPath().endsWith("/pods")) {
                enforcedAtCreates.add(
                    quota(client).get().getStatus().getHard().get(GPUS).toString());
              }
            }
          };
      try (KubernetesClient replaying =
          new KubernetesClientBuilder()
              .withConfig(client.getConfiguration())
              .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("admission", admission))
              .build()) {
        String pods = sandbox.url().replaceAll("/$", "") + "/api/v1/namespaces/team-a/pods";
        var sample =
            new ApiCounter.Sample(
                "POST",
                pods,
                "application/json",
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                    + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}");
        Map<String, Object> figures =
            new Ceiling(replaying, 2, 10, 1, 0)
                .measure(Map.of("POST pods", List.of(sample)), Map.of("POST pods", 1.0), 1.0);

        assertThat(enforcedAtCreates).hasSize(10).containsOnly("1000000");
        assertThat((Map<?, ?>) figures.get("rawFailedWritesByKind")).isEmpty();
        assertThat((List<?>) figures.get("ceilingUnmeasuredKinds")).isEmpty();
        assertThat((double) figures.get("ceilingJobsPerSecond")).isPositive().isFinite();
      }
      // The operator's limit is put back after the replay.
      assertThat(quota(client).get().getSpec().getHard().get(GPUS)).isEqualTo(new Quantity("2"));
    } finally {
      controller.shutdownNow();
    }
  }

  @Test
  void aKindOfWriteThatCouldNotBeReplayedLeavesNoCeilingRatherThanAHigherOne() throws Exception {
    try (Sandbox sandbox = Sandbox.start()) {
      KubernetesClient client = sandbox.client();
      createTeamA(client);
      String api = sandbox.url().replaceAll("/$", "");
      var configMap =
          new ApiCounter.Sample(
              "POST",
              api + "/api/v1/namespaces/team-a/configmaps",
              "application/json",
              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}");
      // No GpuOffer is stored: there is none to update.
      var offerStatus =
          new ApiCounter.Sample(
              "PUT",
              api + "/apis/gpumarket.io/v1alpha1/namespaces/prov-a/gpuoffers/gone/status",
              "application/json",
              "{}");
      Map<String, Object> figures =
          new Ceiling(client, 2, 10, 1, 0)
              .measure(
                  Map.of(
                      "POST configmaps",
                      List.of(configMap),
                      "PUT gpuoffers/status",
                      List.of(offerStatus)),
                  Map.of("POST configmaps", 1.0, "PUT gpuoffers/status", 0.5),
                  1.0);

      assertThat(figures.get("ceilingUnmeasuredKinds")).isEqualTo(List.of("PUT gpuoffers/status"));
      assertThat((double) figures.get("ceilingJobsPerSecond")).isNaN();
      assertThat((double) figures.get("fractionOfCeiling")).isNaN();
      assertThat(((Map<?, ?>) figures.get("rawRatesPerSecondByKind")).get("POST configmaps"))
          .isInstanceOf(Double.class)
          .matches(rate -> (double) rate > 0);
    }
  }

  @Test
  void theMixReplaysEveryKindAtOnceInTheProportionsOfAJobsWrites() throws Exception {
    try (Sandbox sandbox = Sandbox.start()) {
      KubernetesClient admin = sandbox.client();
      createTeamA(admin);
      for (int i = 0; i < 2; i++) {
        admin
            .configMaps()
            .inNamespace("team-a")
            .resource(
                new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                    .withNewMetadata()
                    .withName("c" + i)
                    .endMetadata()
                    .build())
            .create();
      }
      List<String> sent = new CopyOnWriteArrayList<>();
      Interceptor order =
          new Interceptor() {
            @Override
            public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
              if (!request.method().equals("GET")) {
                sent.add(
                    request.method()
                        + (request.uri().toString().contains("dryRun=All") ? "?" : ""));
              }
            }
          };
      admin
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName("team-b").endMetadata().build())
          .create();
      String api = sandbox.url().replaceAll("/$", "") + "/api/v1/namespaces/";
      String configMaps = api + "team-a/configmaps";
      String body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}";
      // The operator's creates went to two tenants.
      List<ApiCounter.Sample> creates =
          List.of(
              new ApiCounter.Sample("POST", configMaps, "application/json", body),
              new ApiCounter.Sample("POST", api + "team-b/configmaps", "application/json", body));
      var update = new ApiCounter.Sample("PUT", configMaps + "/c0", "application/json", "{}");
      try (KubernetesClient replaying =
          new KubernetesClientBuilder()
              .withConfig(admin.getConfiguration())
              .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("order", order))
              .build()) {
        Map<String, Object> figures =
            new Ceiling(replaying, 2, 1, 1, 20)
                .measure(
                    Map.of("POST configmaps", creates, "PUT configmaps", List.of(update)),
                    Map.of("POST configmaps", 2.0, "PUT configmaps", 1.0),
                    1.0);

        // The mix first: half of it sent for the server to check only, warming the client up;
        // then 20 jobs of two creates and an update each, the kinds interleaved rather than one
        // after the other; then each kind alone (one write each).
        assertThat(sent.subList(0, 30)).allMatch(m -> m.endsWith("?")).contains("POST?", "PUT?");
        List<String> mixed = sent.subList(30, sent.size() - 2);
        assertThat(mixed).hasSize(60);
        assertThat(mixed.stream().filter("POST"::equals)).hasSize(40);
        assertThat(mixed.subList(0, 30)).contains("POST", "PUT");
        assertThat(mixed.subList(30, 60)).contains("POST", "PUT");
        assertThat(figures)
            .containsEntry("ceilingMethod", "mix")
            .containsEntry("mixJobs", 20)
            .containsEntry("mixWrites", 60);
        assertThat((Map<?, ?>) figures.get("mixFailedWritesByKind")).isEmpty();
        assertThat((double) figures.get("ceilingJobsPerSecond"))
            .isCloseTo(
                20 / (double) figures.get("mixSeconds"), org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) figures.get("ceilingByKindJobsPerSecond")).isPositive().isFinite();
        // The mix's creates take turns between the tenants.
        for (String team : List.of("team-a", "team-b")) {
          assertThat(admin.configMaps().inNamespace(team).list().getItems())
              .filteredOn(c -> c.getMetadata().getName().contains("-raw-mix-"))
              .hasSize(20);
        }
      }
    }
  }
}
