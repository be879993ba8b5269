package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.market.Decision;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns the market's decisions into holds on GPUs. Each GpuNode's status carries the ledger of the
 * leases holding its GPUs; a hold is written with an update that carries the resourceVersion the
 * decision was made from, so a concurrent writer (another reconcile, another operator replica)
 * makes it fail with 409 Conflict instead of leasing the same GPU twice. Decisions within this
 * process are serialized: they take microseconds, and an offer's cap spans several nodes.
 */
@ApplicationScoped
public class LeaseBinder {
  /** What the binder reads and where it reports its own writes. */
  public interface Sources {
    Collection<GpuNode> nodes();

    Collection<GpuOffer> offers();

    Namespace namespace(String name);

    /** Puts a status this process just wrote into the cache, ahead of the watch event. */
    void wrote(GpuNode updated, GpuNode previous);
  }

  private final KubernetesClient client;
  private final MarketMetrics metrics;

  public LeaseBinder(KubernetesClient client, MarketMetrics metrics) {
    this.client = client;
    this.metrics = metrics;
  }

  /**
   * Decides where the lease goes and holds the GPUs. Holds this lease already has (from a bind cut
   * short) count as free for it and are rewritten to match the new decision.
   *
   * @return the placement, or the refusal to show the user
   * @throws io.fabric8.kubernetes.client.KubernetesClientException 409 when a node changed under
   *     us: try again after the cache catches up
   */
  public synchronized Decision bind(GpuLease lease, PlacementRequest request, Sources sources) {
    String uid = lease.getMetadata().getUid();
    Collection<GpuNode> nodes = sources.nodes();
    long started = System.nanoTime();
    Decision decision =
        MarketView.market(nodes, sources.offers(), sources::namespace, uid).place(request);
    metrics.observeDecision((System.nanoTime() - started) / 1e9);
    if (decision instanceof Placement placement) {
      Map<String, Integer> want = placement.gpusByNode();
      writeHolds(lease, placement, want, nodes, sources);
    }
    return decision;
  }

  /** Returns every GPU this lease holds to the market. Idempotent. */
  public synchronized void release(GpuLease lease, Sources sources) {
    writeHolds(lease, null, Map.of(), sources.nodes(), sources);
  }

  private void writeHolds(
      GpuLease lease,
      Placement placement,
      Map<String, Integer> want,
      Collection<GpuNode> nodes,
      Sources sources) {
    String uid = lease.getMetadata().getUid();
    Map<String, GpuNode> byName = new TreeMap<>();
    TreeSet<String> touched = new TreeSet<>(want.keySet());
    for (GpuNode node : nodes) {
      byName.put(node.getMetadata().getName(), node);
      for (GpuAllocation a : MarketView.allocations(node)) {
        if (Objects.equals(a.leaseUid, uid)) {
          touched.add(node.getMetadata().getName());
        }
      }
    }
    for (String name : touched) {
      GpuNode current = byName.get(name);
      if (current == null) {
        continue;
      }
      int gpus = want.getOrDefault(name, 0);
      List<GpuAllocation> allocations = new ArrayList<>();
      int held = 0;
      for (GpuAllocation a : MarketView.allocations(current)) {
        if (!Objects.equals(a.leaseUid, uid)) {
          allocations.add(a);
          held += a.gpus;
        }
      }
      if (gpus > 0) {
        int allocatable =
            current.getStatus().allocatableGpus == null ? 0 : current.getStatus().allocatableGpus;
        if (held + gpus > allocatable) {
          throw new IllegalStateException(
              "refusing to over-commit " + name + ": " + (held + gpus) + " > " + allocatable);
        }
        allocations.add(
            new GpuAllocation(MarketView.idOf(lease), uid, placement.offer().id(), gpus));
        held += gpus;
      }
      GpuNode updated = client.getKubernetesSerialization().clone(current);
      updated.getStatus().allocations = allocations;
      updated.getStatus().leasedGpus = held;
      GpuNode written = client.resource(updated).updateStatus();
      sources.wrote(written, current);
    }
  }
}
