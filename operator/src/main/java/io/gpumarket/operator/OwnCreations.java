package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/**
 * Hands the leases and pods a job's reconcile creates to the job reconciler's informers as the API
 * server answered the create, ahead of their watches: the next reconcile of the job sees them, so
 * it neither creates them again (a 409 each) nor waits on them, and the watch event of each
 * creation, which only repeats what the reconcile already knows, wakes no reconcile of the job (a
 * lease and about 1.5 pods a job, each a reconcile and a copy of the job).
 */
final class OwnCreations {
  private volatile InformerEventSource<Pod, ComputeJob> pods;
  private volatile InformerEventSource<GpuLease, ComputeJob> leases;

  /** Called once the job reconciler's informers exist; until then creations are not handed on. */
  void attach(
      InformerEventSource<Pod, ComputeJob> pods, InformerEventSource<GpuLease, ComputeJob> leases) {
    this.pods = pods;
    this.leases = leases;
  }

  void pod(ComputeJob job, Pod created) {
    handOver(pods, job, created);
  }

  void lease(ComputeJob job, GpuLease created) {
    handOver(leases, job, created);
  }

  private static <R extends HasMetadata> void handOver(
      InformerEventSource<R, ComputeJob> source, ComputeJob job, R created) {
    if (source != null && created != null) {
      source.handleRecentResourceCreate(ResourceID.fromResource(job), created);
    }
  }
}
