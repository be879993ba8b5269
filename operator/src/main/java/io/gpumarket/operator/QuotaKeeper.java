package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
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

  /** The quota of each namespace as this process last wrote or read it. */
  private final Map<String, ResourceQuota> known = new ConcurrentHashMap<>();

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
    synchronized (locks.computeIfAbsent(namespace, n -> new Object())) {
      sync(namespace, count.getAsInt());
    }
  }

  private void sync(String namespace, int gpus) {
    // The copy this process last wrote or read: a bind raises the quota without reading it first.
    ResourceQuota current = known.get(namespace);
    for (int attempt = 0; ; attempt++) {
      if (current == null) {
        current = quotas(namespace).withName(Labels.QUOTA_NAME).get();
      }
      try {
        known.put(namespace, write(namespace, current, gpus));
        return;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        // Someone else changed, deleted or created it since (409, 404): read it again, once; the
        // next sync of this namespace tries again after that.
        known.remove(namespace);
        if (e.getCode() != 409 && e.getCode() != 404) {
          throw e;
        }
        if (attempt > 0) {
          return;
        }
        current = null;
      }
    }
  }

  /**
   * Sets the quota to {@code gpus} over {@code current} (null: none yet); returns what is stored.
   */
  private ResourceQuota write(String namespace, ResourceQuota current, int gpus) {
    Quantity want = new Quantity(Integer.toString(gpus));
    if (current != null
        && current.getSpec() != null
        && current.getSpec().getHard() != null
        && want.equals(current.getSpec().getHard().get(HARD_KEY))) {
      return current;
    }
    ResourceQuota quota =
        new ResourceQuotaBuilder()
            .withNewMetadata()
            .withName(Labels.QUOTA_NAME)
            .withNamespace(namespace)
            .addToLabels(Labels.MANAGED_BY, Labels.MANAGER)
            .addToAnnotations(
                "gpumarket.io/description",
                "GPUs of this namespace's active GpuLeases; managed by the gpumarket operator")
            .endMetadata()
            .withNewSpec()
            .addToHard(HARD_KEY, want)
            .endSpec()
            .build();
    if (current == null) {
      return quotas(namespace).resource(quota).create();
    }
    quota.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
    return quotas(namespace).resource(quota).update();
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
          ResourceQuota,
          io.fabric8.kubernetes.api.model.ResourceQuotaList,
          io.fabric8.kubernetes.client.dsl.Resource<ResourceQuota>>
      quotas(String namespace) {
    return client.resourceQuotas().inNamespace(namespace);
  }
}
