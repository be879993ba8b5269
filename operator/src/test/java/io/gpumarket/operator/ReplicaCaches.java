package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Namespace;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a binder reads, as one operator replica's informers hold it: what was listed at the start or
 * at the last {@link #refresh}, and this replica's own writes. Safe for several binding threads.
 */
class ReplicaCaches implements LeaseBinder.Sources {
  private final MockCluster cluster;
  private final Map<String, GpuNode> nodes = new ConcurrentHashMap<>();
  private volatile List<GpuOffer> offers;

  ReplicaCaches(MockCluster cluster) {
    this.cluster = cluster;
    refresh();
  }

  /** Catches up with the API server, as a watch would. */
  ReplicaCaches refresh() {
    cluster.client.resources(GpuNode.class).list().getItems().forEach(n -> nodes.put(name(n), n));
    offers = cluster.client.resources(GpuOffer.class).inAnyNamespace().list().getItems();
    return this;
  }

  @Override
  public Collection<GpuNode> nodes() {
    return new TreeMap<>(nodes).values();
  }

  @Override
  public GpuNode node(String name) {
    return nodes.get(name);
  }

  @Override
  public Collection<GpuOffer> offers() {
    return offers;
  }

  @Override
  public Namespace namespace(String name) {
    return cluster.client.namespaces().withName(name).get();
  }

  @Override
  public void wrote(GpuNode updated, GpuNode previous) {
    nodes.put(name(updated), updated);
  }

  /** The leases the API server has waiting, as the replica's lease informer would show them. */
  @Override
  public Map<String, PendingBatch.Waiting> waiting() {
    Map<String, PendingBatch.Waiting> waiting = new TreeMap<>();
    java.time.Instant now = java.time.Instant.now();
    for (var lease :
        cluster
            .client
            .resources(io.gpumarket.api.v1alpha1.GpuLease.class)
            .inAnyNamespace()
            .list()
            .getItems()) {
      if (lease.getStatus() == null
          || lease.getStatus().phase == io.gpumarket.api.v1alpha1.LeasePhase.Pending) {
        waiting.put(
            lease.getMetadata().getUid(),
            new PendingBatch.Waiting(
                GpuLeaseReconciler.request(lease, () -> offers, now),
                LeaseBinder.waited(lease, now)));
      }
    }
    return waiting;
  }

  private static String name(GpuNode node) {
    return node.getMetadata().getName();
  }
}
