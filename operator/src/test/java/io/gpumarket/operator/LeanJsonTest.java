package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.ObjectRef;
import org.junit.jupiter.api.Test;

/** The operator's client reads objects without the managedFields a real API server sends. */
class LeanJsonTest {
  /** A GpuNode as a real API server sends it: managedFields in its metadata. */
  static final String NODE_FROM_SERVER =
      """
      {"apiVersion":"gpumarket.io/v1alpha1","kind":"GpuNode",
       "metadata":{"name":"gn-1","resourceVersion":"42","labels":{"zone":"eu"},
        "managedFields":[{"manager":"kube-controller-manager","operation":"Update",
         "apiVersion":"gpumarket.io/v1alpha1","fieldsType":"FieldsV1",
         "fieldsV1":{"f:status":{"f:ledger":{},"f:conditions":{}}}}]},
       "spec":{"provider":"acme","tier":"edge","region":"eu"}}
      """;

  @Test
  void readsObjectsWithoutManagedFieldsAndKeepsTheRest() {
    GpuNode node = LeanJson.serialization().unmarshal(NODE_FROM_SERVER, GpuNode.class);
    assertThat(node.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(node.getMetadata().getAdditionalProperties()).doesNotContainKey("managedFields");
    assertThat(node.getMetadata().getName()).isEqualTo("gn-1");
    assertThat(node.getMetadata().getResourceVersion()).isEqualTo("42");
    assertThat(node.getMetadata().getLabels()).containsEntry("zone", "eu");
    assertThat(node.getSpec().provider).isEqualTo("acme");
  }

  @Test
  void fieldNamesAreReadAfreshNotLookedUpInATableSharedAcrossObjects() {
    assertThat(readsFieldNamesAfresh(LeanJson.serialization())).isTrue();
    assertThat(
            readsFieldNamesAfresh(new io.fabric8.kubernetes.client.utils.KubernetesSerialization()))
        .as("Jackson's default, which keeps every name it met in one table")
        .isFalse();
  }

  /**
   * Whether two reads of the same object give label keys that are distinct strings: a parser that
   * keeps the names it met hands out the same string for a name each time.
   */
  static boolean readsFieldNamesAfresh(
      io.fabric8.kubernetes.client.utils.KubernetesSerialization json) {
    String first = labelKey(json);
    String second = labelKey(json);
    assertThat(first).isEqualTo(second).isEqualTo("zone");
    return first != second;
  }

  private static String labelKey(io.fabric8.kubernetes.client.utils.KubernetesSerialization json) {
    return json
        .unmarshal(NODE_FROM_SERVER, GpuNode.class)
        .getMetadata()
        .getLabels()
        .keySet()
        .stream()
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aCopyIsEqualToItsOriginalAsJsonAndSharesNothingWithIt() {
    var json = LeanJson.serialization();
    GpuNode node = json.unmarshal(NODE_FROM_SERVER, GpuNode.class);
    node.setStatus(new GpuNodeStatus());
    node.getStatus()
        .allocations
        .add(new GpuAllocation(new ObjectRef("team", "l"), "uid", new ObjectRef("p", "o"), 2));

    GpuNode copy = json.clone(node);
    assertThat(copy).isNotSameAs(node).isInstanceOf(GpuNode.class);
    assertThat(json.asJson(copy)).isEqualTo(json.asJson(node));

    copy.getMetadata().getLabels().put("zone", "us");
    copy.getStatus().allocations.get(0).gpus = 3;
    assertThat(node.getMetadata().getLabels()).containsEntry("zone", "eu");
    assertThat(node.getStatus().allocations.get(0).gpus).isEqualTo(2);
  }

  @Test
  void aClientWithoutItReadsThemAndWritesStillCarryWhatACallerSets() {
    GpuNode plain =
        new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
            .unmarshal(NODE_FROM_SERVER, GpuNode.class);
    assertThat(plain.getMetadata().getManagedFields())
        .singleElement()
        .extracting(ManagedFieldsEntry::getManager)
        .isEqualTo("kube-controller-manager");
    assertThat(LeanJson.serialization().asJson(plain)).contains("\"kube-controller-manager\"");
  }
}
