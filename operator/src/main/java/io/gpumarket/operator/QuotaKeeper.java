package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Keeps one ResourceQuota per tenant namespace that caps {@code requests.nvidia.com/gpu} at the
 * GPUs of its active leases, so pods there cannot take GPUs the market has not leased to it.
 */
@ApplicationScoped
public class QuotaKeeper {
  static final String HARD_KEY = "requests." + Labels.GPU_RESOURCE;
  private final KubernetesClient client;

  /** The GPUs this process last set in each namespace's quota. */
  private final Map<String, Integer> written = new ConcurrentHashMap<>();

  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  public QuotaKeeper(KubernetesClient client) {
    this.client = client;
  }

  /**
   * Sets the namespace's quota to the GPUs counted, writing only when it changed. The count is
   * taken under a lock of the namespace, so that an older, lower count cannot be written after a
   * newer one taken by another reconcile thread.
   */
  public void sync(String namespace, IntSupplier count) {
    synchronized (lock(namespace)) {
      sync(namespace, count.getAsInt());
    }
  }

  /** Whether this process has set the namespace's quota and kept track of it since. */
  boolean synced(String namespace) {
    return written.containsKey(namespace);
  }

  /**
   * Forgets what was set in the namespace, so that its next count is written. Under the namespace's
   * lock: a count taken before the change it follows, and written after, is forgotten too.
   */
  void forget(String namespace) {
    synchronized (lock(namespace)) {
      written.remove(namespace);
    }
  }

  private Object lock(String namespace) {
    return locks.computeIfAbsent(namespace, n -> new Object());
  }

  private void sync(String namespace, int gpus) {
    if (Integer.valueOf(gpus).equals(written.get(namespace))) {
      return;
    }
    written.remove(namespace);
    ResourceQuota wanted = build(namespace, new Quantity(Integer.toString(gpus)));
    // Patched through an object of its name: patched by name alone, the client reads it first.
    var quota = quotas(namespace).resource(wanted);
    try {
      // Only the one limit, without a resourceVersion: the API server's quota controller writes
      // the quota's status after every pod admitted, so a copy read or written before is nearly
      // always stale, and a read before each write costs a request per bind. A merge patch, which
      // also sets the limit where someone took every hard limit off.
      quota.patch(
          PatchContext.of(PatchType.JSON_MERGE),
          "{\"spec\":{\"hard\":{\"" + HARD_KEY + "\":\"" + gpus + "\"}}}");
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      try {
        quota.create();
      } catch (KubernetesClientException created) {
        if (created.getCode() != 409) {
          throw created;
        }
        // Created meanwhile by another writer: the next sync patches it.
        return;
      }
    }
    written.put(namespace, gpus);
  }

  private static ResourceQuota build(String namespace, Quantity gpus) {
    return new ResourceQuotaBuilder()
        .withNewMetadata()
        .withName(Labels.QUOTA_NAME)
        .withNamespace(namespace)
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER)
        .addToAnnotations(
            "gpumarket.io/description",
            "GPUs of this namespace's active GpuLeases; managed by the gpumarket operator")
        .endMetadata()
        .withNewSpec()
        .addToHard(HARD_KEY, gpus)
        .endSpec()
        .build();
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
          ResourceQuota,
          io.fabric8.kubernetes.api.model.ResourceQuotaList,
          io.fabric8.kubernetes.client.dsl.Resource<ResourceQuota>>
      quotas(String namespace) {
    return client.resourceQuotas().inNamespace(namespace);
  }
}
