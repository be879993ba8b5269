package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.Histogram;
import io.prometheus.client.hotspot.DefaultExports;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The market's Prometheus metrics. Gauges are computed from the informer caches at scrape time, so
 * they can never go stale; counters and histograms are fed by the reconcilers.
 */
@ApplicationScoped
public class MarketMetrics {
  private final CollectorRegistry registry = new CollectorRegistry();
  private final Histogram decisionSeconds;
  private final Histogram jobWaitSeconds;
  private final Counter leaseGpuSeconds;
  private final Counter leaseCost;
  private final Counter challenges;
  private final Histogram challengeSeconds;
  private final Counter nodeStatusWrites;

  /** GPU-seconds and cost of each lease already counted by this process, by lease UID. */
  private final Map<String, Accrued> counted = new ConcurrentHashMap<>();

  private record Accrued(long gpuSeconds, BigDecimal cost) {}

  public MarketMetrics(MarketCaches caches) {
    DefaultExports.register(registry);
    decisionSeconds =
        Histogram.build()
            .name("gpumarket_schedule_decision_seconds")
            .help("Time the market took to decide where a lease goes, placed or refused.")
            .buckets(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1)
            .register(registry);
    jobWaitSeconds =
        Histogram.build()
            .name("gpumarket_job_wait_seconds")
            .help("Time from a ComputeJob's creation until its GPUs were leased and pods created.")
            .buckets(0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400)
            .register(registry);
    leaseGpuSeconds =
        Counter.build()
            .name("gpumarket_lease_gpu_seconds_total")
            .help(
                "GPU-seconds accrued by active leases while this operator ran; namespace is the"
                    + " tenant namespace, model the canonical GPU model key.")
            .labelNames("namespace", "model")
            .register(registry);
    leaseCost =
        Counter.build()
            .name("gpumarket_lease_cost_total")
            .help(
                "Cost accrued by active leases while this operator ran, in the currency label;"
                    + " namespace is the tenant namespace.")
            .labelNames("namespace", "currency")
            .register(registry);
    challenges =
        Counter.build()
            .name("gpumarket_node_challenges_total")
            .help(
                "Compute challenges checked, by result: Passed, or why one failed (TooSlow,"
                    + " RowMismatch, BadMerklePath, WrongRowSelection, UnknownNonce, ReplayedNonce,"
                    + " WrongNode).")
            .labelNames("result")
            .register(registry);
    challengeSeconds =
        Histogram.build()
            .name("gpumarket_node_challenge_duration_seconds")
            .help("Time agents reported for answering a compute challenge, passed or failed.")
            .buckets(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300)
            .register(registry);
    nodeStatusWrites =
        Counter.build()
            .name("gpumarket_node_status_writes_total")
            .help(
                "GpuNode status writes this operator made, by cause: ledger (holds taken for a"
                    + " lease, given back, or swept after their lease ended), health (readiness,"
                    + " verification, observed hardware), uptime (the per-minute history alone,"
                    + " when a node's uptime figures move and hourly otherwise: the fleet's"
                    + " upkeep).")
            .labelNames("cause")
            .register(registry);
    new MarketCollector(caches).register(registry);
  }

  /** Why the operator wrote a GpuNode's status. */
  public enum NodeWrite {
    LEDGER,
    HEALTH,
    UPTIME;

    /** The {@code cause} label's value. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public void observeNodeStatusWrite(NodeWrite cause) {
    nodeStatusWrites.labels(cause.label()).inc();
  }

  /** The GpuNode status writes counted so far, by cause. */
  public java.util.Map<String, Long> nodeStatusWrites() {
    java.util.Map<String, Long> counts = new java.util.TreeMap<>();
    for (NodeWrite cause : NodeWrite.values()) {
      counts.put(cause.label(), (long) nodeStatusWrites.labels(cause.label()).get());
    }
    return counts;
  }

  public CollectorRegistry registry() {
    return registry;
  }

  public void observeDecision(double seconds) {
    decisionSeconds.observe(seconds);
  }

  public void observeJobWait(double seconds) {
    jobWaitSeconds.observe(seconds);
  }

  /**
   * Counts what a lease accrued since this process last saw it. The first sighting of a lease sets
   * a baseline, so a restarted operator does not count again what its predecessor counted.
   *
   * @param startedBeforeUs true when the lease's accrual began before this process saw it
   */
  public void observeAccrual(GpuLease lease, boolean startedBeforeUs) {
    var status = lease.getStatus();
    if (status == null || status.gpuSeconds == null || status.cost == null) {
      return;
    }
    String uid = lease.getMetadata().getUid();
    Accrued now = new Accrued(status.gpuSeconds, new BigDecimal(status.cost));
    Accrued before = counted.put(uid, now);
    if (before == null) {
      if (startedBeforeUs) {
        return;
      }
      before = new Accrued(0, BigDecimal.ZERO);
    }
    long gpuSeconds = now.gpuSeconds - before.gpuSeconds;
    BigDecimal cost = now.cost.subtract(before.cost);
    String ns = lease.getMetadata().getNamespace();
    if (gpuSeconds > 0) {
      leaseGpuSeconds.labels(ns, status.model).inc(gpuSeconds);
    }
    if (cost.signum() > 0) {
      leaseCost.labels(ns, status.currency).inc(cost.doubleValue());
    }
  }

  public void observeChallenge(String result, Long elapsedMillis) {
    challenges.labels(result).inc();
    if (elapsedMillis != null) {
      challengeSeconds.observe(elapsedMillis / 1000.0);
    }
  }

  public void forget(GpuLease lease) {
    counted.remove(lease.getMetadata().getUid());
  }

  /** Gauges computed from the caches at scrape time. */
  static final class MarketCollector extends Collector {
    private final MarketCaches caches;

    MarketCollector(MarketCaches caches) {
      this.caches = caches;
    }

    @Override
    public List<MetricFamilySamples> collect() {
      GaugeMetricFamily gpus =
          new GaugeMetricFamily(
              "gpumarket_gpus",
              "GPUs of the market by canonical model, tier (edge or datacenter) and state:"
                  + " leased (held by a lease), available (free on a ready, uncordoned node),"
                  + " unavailable (free but the node is not ready or is cordoned), unhealthy"
                  + " (declared but not healthy).",
              List.of("model", "tier", "state"));
      GaugeMetricFamily utilization =
          new GaugeMetricFamily(
              "gpumarket_utilization_ratio",
              "Leased GPUs over healthy GPUs, by canonical model and tier (0 to 1).",
              List.of("model", "tier"));
      GaugeMetricFamily nodeUp =
          new GaugeMetricFamily(
              "gpumarket_node_up",
              "1 when the GpuNode is Ready, else 0; node is the GpuNode's name.",
              List.of("node"));
      Map<List<String>, long[]> byModelTier = new TreeMap<>(LIST_ORDER);
      for (GpuNode node : (Iterable<GpuNode>) caches.nodes()::iterator) {
        if (node.getSpec() == null || node.getSpec().gpus == null || node.getSpec().tier == null) {
          continue;
        }
        var state = MarketView.nodeState(node, null);
        boolean sellable = state.ready() && state.schedulable();
        int declared = node.getSpec().gpus.count == null ? 0 : node.getSpec().gpus.count;
        long[] c =
            byModelTier.computeIfAbsent(
                List.of(state.model(), state.tier().value()), k -> new long[5]);
        c[0] += state.heldGpus();
        c[1] += sellable ? state.freeGpus() : 0;
        c[2] += sellable ? 0 : state.freeGpus();
        c[3] += Math.max(0, declared - state.healthyGpus());
        c[4] += state.healthyGpus();
        nodeUp.addMetric(List.of(state.name()), state.ready() ? 1 : 0);
      }
      byModelTier.forEach(
          (key, c) -> {
            String[] states = {"leased", "available", "unavailable", "unhealthy"};
            for (int i = 0; i < states.length; i++) {
              gpus.addMetric(List.of(key.get(0), key.get(1), states[i]), c[i]);
            }
            utilization.addMetric(key, c[4] == 0 ? 0 : Math.min(1.0, (double) c[0] / c[4]));
          });

      GaugeMetricFamily jobs =
          new GaugeMetricFamily(
              "gpumarket_jobs",
              "ComputeJobs by tenant namespace and phase (Pending, Scheduled, Running,"
                  + " Succeeded, Failed, Cancelled).",
              List.of("namespace", "phase"));
      Map<List<String>, Long> jobCounts = new TreeMap<>(LIST_ORDER);
      for (ComputeJob job : (Iterable<ComputeJob>) caches.jobs()::iterator) {
        JobPhase phase =
            job.getStatus() == null || job.getStatus().phase == null
                ? JobPhase.Pending
                : job.getStatus().phase;
        jobCounts.merge(List.of(job.getMetadata().getNamespace(), phase.name()), 1L, Long::sum);
      }
      jobCounts.forEach((k, v) -> jobs.addMetric(k, v));

      GaugeMetricFamily price =
          new GaugeMetricFamily(
              "gpumarket_offer_price_per_gpu_hour",
              "Price of one GPU-hour of an offer, in the currency label; namespace and offer name"
                  + " the GpuOffer, model its canonical GPU model.",
              List.of("namespace", "offer", "model", "currency"));
      GaugeMetricFamily available =
          new GaugeMetricFamily(
              "gpumarket_offer_available_gpus",
              "GPUs a new lease could get through an offer now; namespace and offer name the"
                  + " GpuOffer.",
              List.of("namespace", "offer", "model"));
      for (GpuOffer offer : (Iterable<GpuOffer>) caches.offers()::iterator) {
        if (!SpecProblems.of(offer.getSpec()).isEmpty()) {
          continue;
        }
        String ns = offer.getMetadata().getNamespace();
        String name = offer.getMetadata().getName();
        price.addMetric(
            List.of(ns, name, offer.getSpec().model, offer.getSpec().currency),
            Double.parseDouble(offer.getSpec().pricePerGpuHour));
        int avail =
            offer.getStatus() == null || offer.getStatus().availableGpus == null
                ? 0
                : offer.getStatus().availableGpus;
        available.addMetric(List.of(ns, name, offer.getSpec().model), avail);
      }
      GaugeMetricFamily uptime =
          new GaugeMetricFamily(
              "gpumarket_node_uptime_ratio",
              "Share of a window a GpuNode was Ready, from 0 to 1; window is 1h, 24h or 7d.",
              List.of("node", "window"));
      for (GpuNode node : (Iterable<GpuNode>) caches.nodes()::iterator) {
        var u = node.getStatus() == null ? null : node.getStatus().uptime;
        if (u == null) {
          continue;
        }
        String name = node.getMetadata().getName();
        if (u.ratio1h != null) {
          uptime.addMetric(List.of(name, "1h"), u.ratio1h);
        }
        if (u.ratio24h != null) {
          uptime.addMetric(List.of(name, "24h"), u.ratio24h);
        }
        if (u.ratio7d != null) {
          uptime.addMetric(List.of(name, "7d"), u.ratio7d);
        }
      }
      GaugeMetricFamily heartbeatAge =
          new GaugeMetricFamily(
              "gpumarket_node_heartbeat_age_seconds",
              "Seconds since a GpuNode's agent last renewed its heartbeat Lease; node is the GpuNode.",
              List.of("node"));
      double nowSeconds = System.currentTimeMillis() / 1000.0;
      caches
          .heartbeats()
          .forEach(
              lease -> {
                var labels = lease.getMetadata().getLabels();
                if (labels != null
                    && labels.containsKey(Labels.HEARTBEAT_GPUNODE)
                    && lease.getSpec().getRenewTime() != null) {
                  double renewed =
                      lease.getSpec().getRenewTime().toInstant().toEpochMilli() / 1000.0;
                  heartbeatAge.addMetric(
                      List.of(labels.get(Labels.HEARTBEAT_GPUNODE)),
                      Math.max(0, nowSeconds - renewed));
                }
              });
      List<MetricFamilySamples> out = new ArrayList<>();
      out.add(gpus);
      out.add(utilization);
      out.add(nodeUp);
      out.add(uptime);
      out.add(heartbeatAge);
      out.add(jobs);
      out.add(price);
      out.add(available);
      return out;
    }
  }

  private static final java.util.Comparator<List<String>> LIST_ORDER =
      (a, b) -> String.join("\u0000", a).compareTo(String.join("\u0000", b));
}
