package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseStatus;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A job's end and deletion write its on-demand lease while the lease controller writes the lease's
 * status: the lease is released and let go of all the same, and neither write undoes the other.
 */
class JobLeasesTest {
  private static final String NS = "team-a";

  @Test
  void aLeaseWrittenWhileItsJobEndsIsReleasedAndKeepsThatWrite() {
    try (MockCluster c = new MockCluster()) {
      ComputeJob job = c.fleet.create(Fleet.job(NS, "train", List.of("l4"), 1, 1, "1.00"));
      new JobLeases(c.client, new OwnCreations()).create(job);
      GpuLease cached = lease(c, job);
      AtomicInteger racing = new AtomicInteger();
      AtomicInteger requests = new AtomicInteger();

      try (KubernetesClient client = writingStatusBeforeEachPatch(c, job, racing, requests)) {
        new JobLeases(client, new OwnCreations()).release(cached);
      }

      GpuLease lease = lease(c, job);
      assertThat(racing).hasPositiveValue();
      // One request at a job's end: the patch, without a read before it.
      assertThat(requests).hasValue(1);
      assertThat(lease.getSpec().release).isTrue();
      assertThat(lease.getStatus().message).isEqualTo("accrued " + racing.get());
    }
  }

  @Test
  void aLeaseWrittenWhileItsJobIsDeletedIsReleasedAndNoLongerOwnedByIt() {
    try (MockCluster c = new MockCluster()) {
      ComputeJob job = c.fleet.create(Fleet.job(NS, "train", List.of("l4"), 1, 1, "1.00"));
      new JobLeases(c.client, new OwnCreations()).create(job);
      AtomicInteger racing = new AtomicInteger();

      try (KubernetesClient client =
          writingStatusBeforeEachPatch(c, job, racing, new AtomicInteger())) {
        new JobLeases(client, new OwnCreations()).detach(job);
      }

      GpuLease lease = lease(c, job);
      // Its first two writes each came after a status write, and the third went through.
      assertThat(racing).hasValue(2);
      assertThat(lease.getSpec().release).isTrue();
      assertThat(lease.getMetadata().getOwnerReferences()).isEmpty();
      assertThat(lease.getStatus().message).isEqualTo("accrued " + racing.get());
    }
  }

  private static GpuLease lease(MockCluster c, ComputeJob job) {
    return c.client.resources(GpuLease.class).inNamespace(NS).withName(JobLeases.name(job)).get();
  }

  /**
   * A client whose first two PATCHes of the job's lease each come just after the lease controller
   * (here the cluster's own client) wrote the lease's status: a write that read the lease before
   * then works from a stale copy. Counts the client's requests of the lease in {@code requests}.
   */
  private static KubernetesClient writingStatusBeforeEachPatch(
      MockCluster c, ComputeJob job, AtomicInteger racing, AtomicInteger requests) {
    Interceptor statusWriter =
        new Interceptor() {
          @Override
          public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
            if (!request.uri().getPath().endsWith("/gpuleases/" + JobLeases.name(job))) {
              return;
            }
            requests.incrementAndGet();
            if (request.method().equals("PATCH") && racing.get() < 2) {
              GpuLease current = lease(c, job);
              if (current.getStatus() == null) {
                current.setStatus(new GpuLeaseStatus());
              }
              current.getStatus().message = "accrued " + racing.incrementAndGet();
              c.client.resource(current).updateStatus();
            }
          }
        };
    return new KubernetesClientBuilder()
        .withConfig(c.client.getConfiguration())
        .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("racing", statusWriter))
        .build();
  }
}
