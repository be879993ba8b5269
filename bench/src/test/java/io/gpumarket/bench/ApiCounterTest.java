package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpumarket.operator.sandbox.Sandbox;
import org.junit.jupiter.api.Test;

/**
 * The writes the ceiling replays are the last of each kind, from the counted wave, not the first,
 * which a run makes before it (for objects deleted since).
 */
class ApiCounterTest {
  @Test
  void theSamplesKeptOfAKindAreItsLastWritesOldestFirst() {
    ApiCounter counter = new ApiCounter();
    try (Sandbox sandbox = Sandbox.start();
        KubernetesClient client =
            new KubernetesClientBuilder()
                .withConfig(sandbox.client().getConfiguration())
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("count", counter))
                .build()) {
      for (int i = 0; i < ApiCounter.SAMPLES_KEPT + 2; i++) {
        client
            .configMaps()
            .inNamespace("default")
            .resource(
                new ConfigMapBuilder().withNewMetadata().withName("c" + i).endMetadata().build())
            .create();
      }

      assertThat(counter.samples.get("POST configmaps"))
          .extracting(
              s ->
                  client
                      .getKubernetesSerialization()
                      .unmarshal(s.body(), ConfigMap.class)
                      .getMetadata()
                      .getName())
          .hasSize(ApiCounter.SAMPLES_KEPT)
          .startsWith("c2")
          .endsWith("c" + (ApiCounter.SAMPLES_KEPT + 1));
      assertThat(counter.requests.get("POST configmaps").sum())
          .isEqualTo(ApiCounter.SAMPLES_KEPT + 2);
    }
  }
}
