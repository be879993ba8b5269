package io.gpumarket.operator;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.quarkus.kubernetes.client.KubernetesClientObjectMapper;
import io.quarkus.kubernetes.client.KubernetesResources;
import jakarta.enterprise.inject.Produces;
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

  /**
   * A copy of the mapper that reads field names without keeping them in a table shared from one
   * document to the next. A lease's or a pod's managedFields name its owner's uid as a field
   * ({@code k:{"uid":"…"}}), a new name in each object, and Jackson copies its whole table of names
   * into a parser that meets a new one: a lease read in 14–15 µs took 41–50 µs when its owner's uid
   * was new, as it is in every lease and pod of a wave, against 16 µs with each name read as a new
   * string. A copy, because a factory keeps the setting its tables were made with.
   */
  static ObjectMapper readingNamesAfresh(ObjectMapper mapper) {
    return mapper.copyWith(
        mapper
            .getFactory()
            .rebuild()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build());
  }

  /** The serialization of a client built outside Quarkus (the benchmark's operator). */
  public static KubernetesSerialization serialization() {
    ObjectMapper mapper = new ObjectMapper();
    customize(mapper);
    return new Serialization(mapper);
  }

  /**
   * Copies objects through Jackson's token buffer instead of a JSON string: JOSDK copies the
   * primary resource before every reconcile with this method, and writing and parsing the text was
   * 11–14% of the operator's CPU samples at size L of the benchmark.
   */
  static final class Serialization extends KubernetesSerialization {
    private final ObjectMapper mapper;

    /** Over a copy of the mapper that reads field names afresh ({@link #readingNamesAfresh}). */
    Serialization(ObjectMapper mapper) {
      this(readingNamesAfresh(mapper), true);
    }

    private Serialization(ObjectMapper copy, boolean searchClassloaders) {
      super(copy, searchClassloaders);
      this.mapper = copy;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T clone(T resource) {
      return resource == null ? null : (T) mapper.convertValue(resource, resource.getClass());
    }
  }

  // allowGetters: were a caller to set them, a write would still send them.
  @JsonIgnoreProperties(value = "managedFields", allowGetters = true)
  private abstract static class WithoutManagedFields {}

  /**
   * The serialization of the client Quarkus builds for the operator, in place of its default:
   * Quarkus's mapper (with {@link QuarkusClient}'s customizing) and resource classes, copying as
   * {@link Serialization} does.
   */
  @Singleton
  public static class QuarkusSerialization {
    // Raw Class[]: the type Quarkus's own producer declares, and so the only one it resolves.
    @Produces
    @Singleton
    @SuppressWarnings({"rawtypes", "unchecked"})
    KubernetesSerialization serialization(
        @KubernetesClientObjectMapper ObjectMapper mapper, @KubernetesResources Class[] resources) {
      KubernetesSerialization serialization = new Serialization(mapper);
      for (Class resource : resources) {
        serialization.registerKubernetesResource(
            (Class<? extends io.fabric8.kubernetes.api.model.KubernetesResource>) resource);
      }
      return serialization;
    }
  }

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
