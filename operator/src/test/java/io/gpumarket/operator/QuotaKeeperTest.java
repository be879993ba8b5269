package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tenant's quota follows its leases with one write per change and no read: its GPU limit alone
 * is patched, whoever wrote the quota since, and a deleted quota is made again.
 */
class QuotaKeeperTest {
  static final String NS = "team-a";

  @Test
  void aQuotaChangedOrDeletedBySomeoneElseIsSetAgainAtTheNextCount() {
    try (MockCluster cluster = new MockCluster()) {
      cluster.fleet.namespace(NS, Map.of("gpumarket.io/tenant", "true"));
      QuotaKeeper keeper = new QuotaKeeper(cluster.client);
      keeper.sync(NS, () -> 4);
      assertThat(hard(cluster)).isEqualTo("4");
      int requests = cluster.server.getRequestCount();
      keeper.sync(NS, () -> 8);
      assertThat(cluster.server.getRequestCount() - requests).as("one write, no read").isOne();
      assertThat(hard(cluster)).isEqualTo("8");

      // Someone lowers it and adds a limit of their own: the GPU limit is set, theirs kept.
      ResourceQuota edited = quota(cluster);
      edited.getSpec().getHard().put(QuotaKeeper.HARD_KEY, new Quantity("1"));
      edited.getSpec().getHard().put("requests.cpu", new Quantity("64"));
      cluster.client.resource(edited).update();
      keeper.sync(NS, () -> 12);
      assertThat(hard(cluster)).isEqualTo("12");
      assertThat(quota(cluster).getSpec().getHard())
          .containsEntry("requests.cpu", new Quantity("64"));

      // Someone takes every limit off: the GPU limit is set again.
      ResourceQuota bare = quota(cluster);
      bare.getSpec().setHard(null);
      cluster.client.resource(bare).update();
      keeper.sync(NS, () -> 6);
      assertThat(hard(cluster)).isEqualTo("6");

      // Someone deletes it.
      cluster.client.resource(quota(cluster)).delete();
      keeper.sync(NS, () -> 4);
      assertThat(hard(cluster)).isEqualTo("4");
    }
  }

  private static ResourceQuota quota(MockCluster cluster) {
    return cluster.client.resourceQuotas().inNamespace(NS).withName(Labels.QUOTA_NAME).get();
  }

  private static String hard(MockCluster cluster) {
    return quota(cluster).getSpec().getHard().get(QuotaKeeper.HARD_KEY).toString();
  }
}
