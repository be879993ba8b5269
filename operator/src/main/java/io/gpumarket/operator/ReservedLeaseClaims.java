package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Places the replicas of jobs that run on a reserved lease ({@code leaseRef}) on the part of it the
 * other jobs on it leave free. Several jobs share one lease, and the nodes a job took show in its
 * status only once the cache has it, so the claims this process made are kept until then.
 */
final class ReservedLeaseClaims {
  /** Replicas placed by this process and not yet in the cache: job UID to nodes. */
  private final Map<String, List<String>> claims = new ConcurrentHashMap<>();

  /**
   * Places a job's replicas on the free part of a reserved lease, best fit; null if it cannot.
   *
   * @param sharers the jobs on the same lease (the job itself among them or not)
   */
  synchronized List<String> claim(ComputeJob job, GpuLease lease, List<ComputeJob> sharers) {
    Map<String, Integer> free = new HashMap<>();
    lease.getStatus().allocations.forEach(a -> free.merge(a.gpuNode, a.gpus, Integer::sum));
    for (ComputeJob other : sharers) {
      if (Objects.equals(other.getMetadata().getUid(), job.getMetadata().getUid())
          || !Objects.equals(JobLeases.name(other), JobLeases.name(job))
          || other.getSpec().leaseRef == null
          || ComputeJobReconciler.isFinal(other)) {
        continue;
      }
      List<String> used =
          other.getStatus() != null && !other.getStatus().nodes.isEmpty()
              ? other.getStatus().nodes
              : claims.getOrDefault(other.getMetadata().getUid(), List.of());
      used.forEach(n -> free.merge(n, -other.getSpec().gpu.perReplica, Integer::sum));
    }
    int per = job.getSpec().gpu.perReplica;
    List<String> order = new ArrayList<>(free.keySet());
    order.sort(Comparator.comparingInt((String n) -> free.get(n)).thenComparing(n -> n));
    List<String> placed = new ArrayList<>();
    for (String n : order) {
      while (placed.size() < job.getSpec().replicas && free.get(n) >= per) {
        placed.add(n);
        free.merge(n, -per, Integer::sum);
      }
    }
    if (placed.size() < job.getSpec().replicas) {
      return null;
    }
    claims.put(job.getMetadata().getUid(), placed);
    return placed;
  }

  void forget(ComputeJob job) {
    claims.remove(job.getMetadata().getUid());
  }
}
