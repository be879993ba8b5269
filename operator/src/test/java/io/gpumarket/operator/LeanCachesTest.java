package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

  @Test
  void aListedStoreListsWhatItHoldsKeepingEachObjectsPlace() {
    LeanCaches.Listed<GpuNode> store = new LeanCaches.Listed<>();
    GpuNode a = node("a");
    GpuNode b = node("b");
    GpuNode c = node("c");
    store.put("a", a);
    store.put("b", b);
    store.put("c", c);
    List<GpuNode> first = store.all();
    assertThat(first).containsExactly(a, b, c);
    // Unchanged, it hands out the same list, and nobody may change it.
    assertThat(store.all()).isSameAs(first);
    assertThatThrownBy(() -> first.add(a)).isInstanceOf(UnsupportedOperationException.class);

    GpuNode b2 = node("b");
    b2.getMetadata().setManagedFields(List.of(entry()));
    store.put("b", b2);
    assertThat(store.all()).containsExactly(a, b2, c);
    assertThat(b2.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(first).containsExactly(a, b, c);

    // A removed object's place goes to the last one; the map agrees with the list.
    store.remove("a");
    assertThat(store.all()).containsExactly(c, b2);
    store.remove("missing");
    store.put("d", node("d"));
    store.remove("d");
    assertThat(store.all()).containsExactly(c, b2);
    store.remove("b");
    store.remove("c");
    assertThat(store.all()).isEmpty();
    assertThat(store.size()).isZero();
    store.put("a", a);
    assertThat(store.all()).containsExactly(a);
    assertThat(store.values()).containsExactly(a);
  }

  private static GpuNode node(String name) {
    GpuNode n = new GpuNode();
    n.getMetadata().setName(name);
    return n;
  }
}
