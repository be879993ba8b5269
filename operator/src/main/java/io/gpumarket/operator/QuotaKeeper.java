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
    synchronized (locks.computeIfAbsent(namespace, n -> new Object())) {
      sync(namespace, count.getAsInt());
    }
  }

  private void sync(String namespace, int gpus) {
    if (Integer.valueOf(gpus).equals(written.get(namespace))) {
      return;
    }
    var quotas = client.resourceQuotas().inNamespace(namespace);
    ResourceQuota current = quotas.withName(Labels.QUOTA_NAME).get();
    Quantity want = new Quantity(Integer.toString(gpus));
    if (current != null
        && current.getSpec() != null
        && current.getSpec().getHard() != null
        && want.equals(current.getSpec().getHard().get(HARD_KEY))) {
      written.put(namespace, gpus);
      return;
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
    try {
      if (current == null) {
        quotas.resource(quota).create();
      } else {
        quota.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
        quotas.resource(quota).update();
      }
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // Another reconcile wrote it meanwhile; the next one of this namespace sets it again.
      written.remove(namespace);
      return;
    }
    written.put(namespace, gpus);
  }
}
