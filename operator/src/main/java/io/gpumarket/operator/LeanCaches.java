package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
  public static class WithoutManagedFields<R extends HasMetadata> extends BasicItemStore<R> {
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

  /**
   * A {@link WithoutManagedFields} store that also keeps its objects in one list for a reader that
   * takes all of them often ({@link #all}): the market reads every GpuNode at each bind, and a
   * listing of the informer walked its map into a new list each time (5,000 nodes at size L: 7–10%
   * of the operator's CPU samples). The list is copied once after a change and shared until the
   * next. Each object keeps its place in it (a removed one's goes to the last), so that a reader
   * comparing it with the list before by position finds the same objects where nothing changed. The
   * informer puts and removes objects one at a time; the lock keeps the list in step with the map
   * for readers on other threads.
   */
  static final class Listed<R extends HasMetadata> extends WithoutManagedFields<R> {
    private final Map<String, Integer> slots = new HashMap<>();
    private final List<R> items = new ArrayList<>();
    private List<R> listed = List.of();

    @Override
    public synchronized R put(String key, R obj) {
      R before = super.put(key, obj);
      Integer slot = slots.putIfAbsent(key, items.size());
      if (slot == null) {
        items.add(obj);
      } else {
        items.set(slot, obj);
      }
      listed = null;
      return before;
    }

    @Override
    public synchronized R remove(String key) {
      R before = super.remove(key);
      Integer slot = slots.remove(key);
      if (slot != null) {
        int last = items.size() - 1;
        if (slot != last) {
          items.set(slot, items.get(last));
          slots.put(Cache.metaNamespaceKeyFunc(items.get(slot)), slot);
        }
        items.remove(last);
        listed = null;
      }
      return before;
    }

    /** Every object of the store, unmodifiable; the same list until the store changes. */
    synchronized List<R> all() {
      if (listed == null) {
        listed = List.copyOf(items);
      }
      return listed;
    }
  }
}
