package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tenant's quota follows its leases without a read before each write: the copy last written is
 * written over, and one someone else changed or deleted meanwhile is read again and set.
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
      keeper.sync(NS, () -> 8);
      assertThat(hard(cluster)).isEqualTo("8");

      // Someone lowers it: the copy this keeper wrote is stale, its write conflicts.
      ResourceQuota edited = quota(cluster);
      edited.getSpec().getHard().put(QuotaKeeper.HARD_KEY, new Quantity("1"));
      cluster.client.resource(edited).update();
      keeper.sync(NS, () -> 12);
      assertThat(hard(cluster)).isEqualTo("12");

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
