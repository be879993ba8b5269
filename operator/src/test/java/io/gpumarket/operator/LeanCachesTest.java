package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.Tier;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator's caches hold no managedFields (the fabric8 mock stores what a client sends, so the
 * test sends them as a real API server would write them), and the API server keeps its own.
 */
class LeanCachesTest {
  private static ManagedFieldsEntry entry() {
    ManagedFieldsEntry e = new ManagedFieldsEntry();
    e.setManager("kubectl-client-side-apply");
    e.setOperation("Update");
    e.setApiVersion("gpumarket.io/v1alpha1");
    e.setFieldsType("FieldsV1");
    FieldsV1 fields = new FieldsV1();
    fields.setAdditionalProperty("f:spec", Map.of("f:gpus", Map.of("f:count", Map.of())));
    e.setFieldsV1(fields);
    return e;
  }

  @Test
  void cachedCopiesCarryNoManagedFields() {
    try (MockCluster cluster = new MockCluster()) {
      Fleet fleet = cluster.fleet;
      fleet.namespace("prov", Map.of());
      fleet.gpuNode("n", "prov", Tier.EDGE, "eu", "l4", 2);
      fleet.offer("prov", "l4", "prov", "l4", "0.50");
      cluster
          .client
          .resources(GpuNode.class)
          .withName("n")
          .edit(
              n -> {
                n.getMetadata().setManagedFields(List.of(entry()));
                return n;
              });
      cluster
          .client
          .resources(GpuOffer.class)
          .inNamespace("prov")
          .withName("l4")
          .edit(
              o -> {
                o.getMetadata().setManagedFields(List.of(entry()));
                return o;
              });
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  GpuNode cached = operator.caches.nodes().findFirst().orElseThrow();
                  assertThat(cached.getStatus()).as("reconciled").isNotNull();
                  assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
                  GpuOffer offer = operator.caches.offers().findFirst().orElseThrow();
                  assertThat(offer.getStatus()).as("reconciled").isNotNull();
                  assertThat(offer.getMetadata().getManagedFields()).isNullOrEmpty();
                });
        assertThat(fleet.getNode("n").getMetadata().getManagedFields())
            .as("the server's record, untouched by the operator's writes")
            .hasSize(1);
      }
    }
  }
}
