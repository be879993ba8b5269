package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseStatus;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Counters of GPU-seconds and cost: monotonic, and not counted twice across a restart. */
class MarketMetricsTest {
  static GpuLease lease(String uid, long gpuSeconds, String cost) {
    GpuLease lease = new GpuLease();
    lease.getMetadata().setName("l");
    lease.getMetadata().setNamespace("team");
    lease.getMetadata().setUid(uid);
    lease.setStatus(new GpuLeaseStatus());
    lease.getStatus().model = "h100-80gb";
    lease.getStatus().currency = "USD";
    lease.getStatus().gpuSeconds = gpuSeconds;
    lease.getStatus().cost = cost;
    return lease;
  }

  static String scrape(MarketMetrics metrics) throws Exception {
    StringWriter out = new StringWriter();
    TextFormat.write004(out, metrics.registry().metricFamilySamples());
    return out.toString();
  }

  @Test
  void countsAccrualOnceAndOnlyWhatThisProcessSaw() throws Exception {
    MarketMetrics metrics = new MarketMetrics(new MarketCaches());
    metrics.observeAccrual(lease("new", 0, "0.0000"), false);
    metrics.observeAccrual(lease("new", 3600, "2.4000"), false);
    metrics.observeAccrual(lease("new", 3600, "2.4000"), false);
    // A lease that was already accruing before this process started: only what follows counts.
    metrics.observeAccrual(lease("old", 7200, "4.8000"), true);
    metrics.observeAccrual(lease("old", 9000, "6.0000"), true);

    String text = scrape(metrics);
    assertThat(text)
        .contains(
            "gpumarket_lease_gpu_seconds_total{namespace=\"team\",model=\"h100-80gb\",} 5400.0")
        .contains("# HELP gpumarket_lease_cost_total");
    String costLine = "gpumarket_lease_cost_total{namespace=\"team\",currency=\"USD\",} ";
    String cost = text.substring(text.indexOf(costLine) + costLine.length()).split("\n")[0];
    assertThat(Double.parseDouble(cost)).isCloseTo(3.6, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void nodeStatusWritesAreCountedByCauseAndAnUptimeWriteIsTheHistoryAlone() throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      cluster.fleet.oneH100Host();
      try (TestOperator operator = TestOperator.start(cluster.client)) {
        cluster.fleet.create(
            Fleet.job("team-a", "train", java.util.List.of("h100-80gb"), 2, 2, null));
        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(20))
            .untilAsserted(() -> assertThat(cluster.fleet.pods("team-a", "train")).hasSize(2));
        var writes = operator.metrics.nodeStatusWrites();
        // One ledger write holds both replicas' GPUs on the one host.
        assertThat(writes).containsEntry("ledger", 1L).containsEntry("uptime", 0L);
        assertThat(writes.get("health")).as("the host's first Ready and Verified").isPositive();
        assertThat(scrape(operator.metrics))
            .contains("gpumarket_node_status_writes_total{cause=\"ledger\",} 1.0");

        var node = cluster.fleet.getNode("dc-1").getStatus();
        var later = StatusDiff.copy(node);
        later.uptime = new io.gpumarket.api.v1alpha1.UptimeStatus();
        later.uptime.ratio1h = 0.5;
        later.lastHeartbeatTime = "2026-12-06T18:00:00Z";
        assertThat(GpuNodeReconciler.uptimeAlone(node, later)).isTrue();
        later.leasedGpus = 0;
        assertThat(GpuNodeReconciler.uptimeAlone(node, later)).isFalse();
        assertThat(GpuNodeReconciler.uptimeAlone(null, later)).isFalse();
      }
    }
  }
}
