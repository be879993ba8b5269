package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/** Reconciles counted through JOSDK's metrics hook, under a key of each resource reconciled. */
public final class ReconcileCounts implements Metrics {
  private final Function<HasMetadata, String> key;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  /** Counts under {@code key} of each resource reconciled; a resource whose key is null is not. */
  public ReconcileCounts(Function<HasMetadata, String> key) {
    this.key = key;
  }

  /** By kind. */
  public static ReconcileCounts byKind() {
    return new ReconcileCounts(HasMetadata::getKind);
  }

  @Override
  public void reconcileCustomResource(
      HasMetadata resource, RetryInfo retryInfo, Map<String, Object> metadata) {
    String k = key.apply(resource);
    if (k != null) {
      counts.computeIfAbsent(k, x -> new LongAdder()).increment();
    }
  }

  /** Reconciles so far under {@code k}. */
  public long of(String k) {
    LongAdder n = counts.get(k);
    return n == null ? 0 : n.sum();
  }

  /** Reconciles so far, by key. */
  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, n) -> out.put(k, n.sum()));
    return out;
  }
}
