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
}
