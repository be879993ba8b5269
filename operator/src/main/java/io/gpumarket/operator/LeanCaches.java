package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import java.util.Set;

/**
 * What keeps the informer caches small at fleet scale (measured at size L of the benchmark against
 * a real API server, 5,000 GpuNodes and 10,000 GpuOffers: the operator ran out of a 2 GiB heap
 * before the first job).
 */
final class LeanCaches {
  private LeanCaches() {}

  /**
   * The configuration of an event source for a type no reconciler reads as its secondary resources:
   * no managedFields kept, no primary-to-secondary index (see {@link #unindexed}).
   */
  static <R extends HasMetadata> InformerEventSourceConfiguration.Builder<R> secondaries(
      Class<R> type, Class<? extends HasMetadata> primary) {
    return InformerEventSourceConfiguration.from(type, primary)
        .withItemStore(new WithoutManagedFields<>())
        .withPrimaryToSecondaryMapper(unindexed());
  }

  /**
   * For an event source whose objects no reconciler reads through {@code
   * Context.getSecondaryResources}: without a primary-to-secondary mapper JOSDK keeps an index from
   * each primary to its secondaries, built from the secondary-to-primary mapper, and ours fan out
   * (a GpuNode to every offer of its provider, to every pending lease): six million ids before the
   * first job at size L.
   */
  static <P extends HasMetadata> PrimaryToSecondaryMapper<P> unindexed() {
    return primary -> Set.of();
  }

  /**
   * An informer's store that drops {@code metadata.managedFields} from every object it keeps. A
   * real API server records there, for each writer, every field it set, as nested maps; no
   * reconciler reads them, and the operator writes without server-side apply, where an update that
   * leaves them out keeps the server's record unchanged. The operator's own client does not read
   * them at all ({@link LeanJson}); this store keeps a cache lean under a client built without it.
   */
  public static final class WithoutManagedFields<R extends HasMetadata> extends BasicItemStore<R> {
    public WithoutManagedFields() {
      super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public R put(String key, R obj) {
      if (obj.getMetadata() != null) {
        obj.getMetadata().setManagedFields(null);
      }
      return super.put(key, obj);
    }
  }
}
