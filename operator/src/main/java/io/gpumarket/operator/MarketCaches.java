package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.javaoperatorsdk.operator.api.reconciler.ResourceCache;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.stream.Stream;

/**
 * The primary informer cache of each controller, registered when the controller starts, so that
 * metrics read what the controllers see instead of listing from the API server at every scrape; and
 * the informers controllers share ({@link SharedInformer}).
 */
@ApplicationScoped
public class MarketCaches {
  private volatile ResourceCache<GpuNode> nodes;
  private volatile ResourceCache<GpuOffer> offers;
  private volatile ResourceCache<GpuLease> leases;
  private volatile ResourceCache<ComputeJob> jobs;
  private volatile ResourceCache<io.fabric8.kubernetes.api.model.coordination.v1.Lease> heartbeats;
  private final SharedInformer<GpuNode> sharedNodes = new SharedInformer<>();
  private final SharedInformer<GpuLease> sharedLeases = new SharedInformer<>();

  /** GpuNodes as the lease controller's informer holds them, its binds included. */
  SharedInformer<GpuNode> sharedNodes() {
    return sharedNodes;
  }

  /** GpuLeases as the job controller's informer holds them, its creations included. */
  SharedInformer<GpuLease> sharedLeases() {
    return sharedLeases;
  }

  void registerHeartbeats(
      ResourceCache<io.fabric8.kubernetes.api.model.coordination.v1.Lease> cache) {
    heartbeats = cache;
  }

  public Stream<io.fabric8.kubernetes.api.model.coordination.v1.Lease> heartbeats() {
    return heartbeats == null ? Stream.empty() : heartbeats.list();
  }

  void registerNodes(ResourceCache<GpuNode> cache) {
    nodes = cache;
  }

  void registerOffers(ResourceCache<GpuOffer> cache) {
    offers = cache;
  }

  void registerLeases(ResourceCache<GpuLease> cache) {
    leases = cache;
  }

  void registerJobs(ResourceCache<ComputeJob> cache) {
    jobs = cache;
  }

  public Stream<GpuNode> nodes() {
    return nodes == null ? Stream.empty() : nodes.list();
  }

  public Stream<GpuOffer> offers() {
    return offers == null ? Stream.empty() : offers.list();
  }

  public Stream<GpuLease> leases() {
    return leases == null ? Stream.empty() : leases.list();
  }

  public Stream<ComputeJob> jobs() {
    return jobs == null ? Stream.empty() : jobs.list();
  }
}
