package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.NodeAllocation;
import io.gpumarket.market.Durations;
import io.javaoperatorsdk.operator.ReconcilerUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The GpuLease a job runs on: its {@code leaseRef}, or the on-demand lease the job asks the market
 * for, owned by the job and released when it ends.
 */
final class JobLeases {
  private final KubernetesClient client;
  private final OwnCreations creations;

  JobLeases(KubernetesClient client, OwnCreations creations) {
    this.creations = creations;
    this.client = client;
  }

  /**
   * The lease a job runs on: its leaseRef, or its own on-demand lease, named after the job and its
   * UID so that a job deleted and created again under the same name gets a new one, and after the
   * lease generation so that a job moved off a lost host gets a new one too.
   */
  static String name(ComputeJob job) {
    if (job.getSpec() != null && job.getSpec().leaseRef != null) {
      return job.getSpec().leaseRef;
    }
    String uid = job.getMetadata().getUid();
    Integer generation = job.getStatus() == null ? null : job.getStatus().leaseGeneration;
    return job.getMetadata().getName()
        + "-"
        + (uid == null ? "" : uid.substring(0, Math.min(8, uid.length())))
        + (generation == null || generation <= 1 ? "" : "-r" + generation);
  }

  /**
   * Asks the market for the job's GPUs with a lease of its constraints; idempotent. Created first
   * and read only if the name is taken, rather than read before each create.
   *
   * @return false if a lease of that name exists that the job does not own
   */
  boolean create(ComputeJob job) {
    var spec = job.getSpec();
    GpuLease lease = new GpuLease();
    lease.getMetadata().setName(name(job));
    lease.getMetadata().setNamespace(job.getMetadata().getNamespace());
    lease
        .getMetadata()
        .setLabels(
            Map.of(Labels.MANAGED_BY, Labels.MANAGER, Labels.JOB, job.getMetadata().getName()));
    lease.getMetadata().setOwnerReferences(List.of(JobPods.owner(job)));
    // Born with the lease controller's finalizer, which it would otherwise add in a write of its
    // own
    // before its first reconcile.
    lease
        .getMetadata()
        .setFinalizers(List.of(ReconcilerUtils.getDefaultFinalizerName(GpuLease.class)));
    GpuLeaseSpec ls = new GpuLeaseSpec();
    ls.models = spec.gpu.models;
    ls.tier = spec.gpu.tier;
    ls.regions = spec.gpu.regions;
    ls.minUptimeRatio = spec.gpu.minUptimeRatio;
    ls.requireVerified = spec.gpu.requireVerified;
    ls.maxPricePerGpuHour = spec.maxPricePerGpuHour;
    ls.currency = spec.currency;
    ls.gpus = spec.replicas * spec.gpu.perReplica;
    ls.gpusPerNode = spec.gpu.perReplica;
    if (spec.activeDeadlineSeconds != null) {
      ls.duration = Durations.format(Duration.ofSeconds(spec.activeDeadlineSeconds));
    }
    lease.setSpec(ls);
    try {
      creations.lease(
          job,
          client
              .resources(GpuLease.class)
              .inNamespace(job.getMetadata().getNamespace())
              .resource(lease)
              .create());
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
    // Created before (the cache has not shown it yet), or another object has the name.
    GpuLease existing = fetch(job);
    return existing == null || ownedBy(existing, job);
  }

  /** The job's on-demand lease as the API server has it now, or null if the job owns none. */
  GpuLease fetchOwned(ComputeJob job) {
    GpuLease lease = fetch(job);
    return lease != null && ownedBy(lease, job) ? lease : null;
  }

  /** The lease of the on-demand lease's name, from the API server rather than a cache. */
  private GpuLease fetch(ComputeJob job) {
    return client
        .resources(GpuLease.class)
        .inNamespace(job.getMetadata().getNamespace())
        .withName(name(job))
        .get();
  }

  /**
   * Returns an on-demand lease's GPUs to the market; the lease stays as the record of the bill. A
   * merge patch of the one field, without a read or a resourceVersion: the lease controller writes
   * the lease's status meanwhile, and {@code release} only ever goes from false to true.
   */
  void release(GpuLease lease) {
    if (lease == null || lease.getSpec().release || ComputeJobReconciler.isFinal(lease)) {
      return;
    }
    try {
      client
          .resources(GpuLease.class)
          .inNamespace(lease.getMetadata().getNamespace())
          .resource(named(lease))
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"release\":true}}");
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /**
   * On the job's deletion: releases its on-demand lease and takes the job's ownership off it, so
   * that the lease outlives the job as the record of what it was billed. Written from the copy just
   * read, and read again when the lease changed in between (its status is written as it accrues).
   */
  void detach(ComputeJob job) {
    if (job.getSpec() != null && job.getSpec().leaseRef != null) {
      return;
    }
    var leaseResource =
        client
            .resources(GpuLease.class)
            .inNamespace(job.getMetadata().getNamespace())
            .withName(name(job));
    String uid = job.getMetadata().getUid();
    for (int attempt = 1; ; attempt++) {
      GpuLease lease = leaseResource.get();
      if (lease == null || !ownedBy(lease, job)) {
        return;
      }
      try {
        client
            .resource(lease)
            .edit(
                l -> {
                  l.getSpec().release = true;
                  l.getMetadata().getOwnerReferences().removeIf(r -> uid.equals(r.getUid()));
                  return l;
                });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == DETACH_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  /**
   * How often a detach reads and writes a lease that keeps changing before it leaves the rest to a
   * retry of the job's reconcile.
   */
  private static final int DETACH_ATTEMPTS = 5;

  /** An object of the lease's name alone: patched by name, the client would read it first. */
  private static GpuLease named(GpuLease lease) {
    GpuLease named = new GpuLease();
    named.getMetadata().setName(lease.getMetadata().getName());
    named.getMetadata().setNamespace(lease.getMetadata().getNamespace());
    return named;
  }

  /** The GpuNode of each block of an on-demand lease, one per replica. */
  static List<String> blocks(GpuLease lease, int perReplica) {
    List<String> nodes = new ArrayList<>();
    for (NodeAllocation a : lease.getStatus().allocations) {
      for (int i = 0; i < a.gpus / perReplica; i++) {
        nodes.add(a.gpuNode);
      }
    }
    return nodes;
  }

  /** Whether the operator made this lease for a job (an on-demand lease). */
  static boolean isJobsOwn(GpuLease lease) {
    var labels = lease.getMetadata().getLabels();
    return labels != null
        && Labels.MANAGER.equals(labels.get(Labels.MANAGED_BY))
        && labels.containsKey(Labels.JOB);
  }

  static boolean ownedBy(GpuLease lease, ComputeJob job) {
    List<OwnerReference> refs = lease.getMetadata().getOwnerReferences();
    return refs != null
        && refs.stream().anyMatch(r -> Objects.equals(r.getUid(), job.getMetadata().getUid()));
  }
}
