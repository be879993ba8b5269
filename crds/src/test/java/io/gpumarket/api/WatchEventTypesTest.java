package io.gpumarket.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client reads a watch event's object by its apiVersion and kind. A kind it does not know comes
 * back as a generic resource that every informer then converts again, field by field: at the
 * benchmark's size M a tenth of the operator's CPU went to reading watch events twice.
 */
class WatchEventTypesTest {
  @Test
  void aWatchEventOfEachKindIsReadAsItsOwnClass() {
    KubernetesSerialization serialization = new KubernetesSerialization();
    for (Class<?> type : List.of(GpuNode.class, GpuOffer.class, GpuLease.class, ComputeJob.class)) {
      String json =
          "{\"type\":\"MODIFIED\",\"object\":{\"apiVersion\":\"gpumarket.io/v1alpha1\",\"kind\":\""
              + type.getSimpleName()
              + "\",\"metadata\":{\"name\":\"x\"}}}";
      WatchEvent event = serialization.unmarshal(json, WatchEvent.class);
      assertThat(event.getObject()).as(type.getSimpleName()).isInstanceOf(type);
    }
  }
}
