package io.gpumarket.operator;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import jakarta.inject.Singleton;

/**
 * The operator's client reads objects without {@code metadata.managedFields}. A real API server
 * sends them in every object, watch event and write response: a fifth of a GpuNode's bytes, a third
 * of a job's, two fifths of a lease's or a pod's (size L of the benchmark). No reconciler reads
 * them, and {@link LeanCaches} could drop them only after each informer had decoded them into
 * nested maps. Writes are unchanged: an update that leaves them out keeps the server's record.
 */
public final class LeanJson {
  private LeanJson() {}

  /** Makes the mapper skip managedFields when it reads an object's metadata. */
  public static void customize(ObjectMapper mapper) {
    mapper.addMixIn(ObjectMeta.class, WithoutManagedFields.class);
  }

  /** The serialization of a client built outside Quarkus (the benchmark's operator). */
  public static KubernetesSerialization serialization() {
    ObjectMapper mapper = new ObjectMapper();
    customize(mapper);
    return new KubernetesSerialization(mapper, true);
  }

  // allowGetters: were a caller to set them, a write would still send them.
  @JsonIgnoreProperties(value = "managedFields", allowGetters = true)
  private abstract static class WithoutManagedFields {}

  /** Applies {@link #customize} to the client Quarkus builds for the operator. */
  @Singleton
  public static class QuarkusClient
      implements io.quarkus.kubernetes.client.KubernetesClientObjectMapperCustomizer {
    @Override
    public void customize(ObjectMapper mapper) {
      LeanJson.customize(mapper);
    }
  }
}
