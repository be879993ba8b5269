package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.GpuNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The GpuNode statuses this process wrote that the watch may not have delivered yet, by node name:
 * a decision must not be made on a copy one of them replaced.
 */
final class OwnNodeWrites {
  private final Map<String, GpuNode> written = new ConcurrentHashMap<>();

  /** Keeps a status just written, unless a newer one of the same node is kept already. */
  void wrote(GpuNode updated) {
    written.merge(
        updated.getMetadata().getName(),
        updated,
        (had, now) -> {
          Long a = CheckedWrites.version(had);
          Long b = CheckedWrites.version(now);
          return a != null && b != null && a > b ? had : now;
        });
  }

  /**
   * The cached copy, or this process's own write of the node if that is newer; a write the cache
   * has caught up with is forgotten. {@code fetch} reads the cache again when versions do not
   * compare.
   */
  GpuNode latest(GpuNode cached, Function<String, GpuNode> fetch) {
    String name = cached.getMetadata().getName();
    GpuNode own = written.get(name);
    if (own == null) {
      return cached;
    }
    Long ownVersion = CheckedWrites.version(own);
    Long cachedVersion = CheckedWrites.version(cached);
    if (ownVersion == null || cachedVersion == null) {
      GpuNode now = fetch.apply(name);
      return now != null ? now : cached;
    }
    if (ownVersion > cachedVersion) {
      return own;
    }
    written.remove(name, own);
    return cached;
  }

  /**
   * The nodes as {@code listed} from the cache, each replaced by this process's own write where
   * that is newer. The listed copy of each written node is found by reference, as the cache holds
   * it now ({@code cached}, by name), so that no listed node's name is read: at 5,000 nodes,
   * hashing every one's name at each bind was a tenth of a profile's samples at L, most likely the
   * cost of reading 5,000 objects no longer in the processor's caches. If the cache moved on
   * between the listing and the lookups, every listed node is compared by name. A written node the
   * cache no longer has stays as listed.
   */
  List<GpuNode> overlay(List<GpuNode> listed, Function<String, GpuNode> cached) {
    if (written.isEmpty()) {
      return listed;
    }
    List<GpuNode> now = new ArrayList<>(written.size());
    for (String name : written.keySet()) {
      GpuNode copy = cached.apply(name);
      if (copy != null) {
        now.add(copy);
      }
    }
    GpuNode[] out = listed.toArray(new GpuNode[0]);
    int found = 0;
    for (int i = 0; i < out.length && found < now.size(); i++) {
      for (GpuNode copy : now) {
        if (out[i] == copy) {
          out[i] = latest(copy, cached);
          found++;
          break;
        }
      }
    }
    if (found < now.size()) {
      return listed.stream().map(n -> latest(n, cached)).toList();
    }
    return Arrays.asList(out);
  }

  /**
   * The latest copy of each node written here that the cache still has, by name; the writes of
   * nodes it no longer has (deleted since) are forgotten.
   */
  Map<String, GpuNode> latestOfWritten(Function<String, GpuNode> cached) {
    Map<String, GpuNode> out = new HashMap<>();
    written.forEach(
        (name, write) -> {
          GpuNode now = cached.apply(name);
          if (now == null) {
            written.remove(name, write);
          } else {
            out.put(name, latest(now, cached));
          }
        });
    return out;
  }

  /** Whether no write of this process is still ahead of the cache. */
  boolean isEmpty() {
    return written.isEmpty();
  }
}
