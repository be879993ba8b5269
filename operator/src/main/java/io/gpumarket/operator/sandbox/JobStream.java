package io.gpumarket.operator.sandbox;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobSpec;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuRequirement;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.TierRequirement;
import io.gpumarket.operator.Times;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady stream of tenants' ComputeJobs: a mix of models, sizes, price caps, tiers, regions and
 * uptime SLAs, about one in twenty asking for something no offer sells. Jobs that ended, and the
 * released leases they leave as billing records, are deleted after {@link #KEEP_ENDED} so that the
 * sandbox can run for hours; a job still waiting after {@link #GIVE_UP} is deleted too.
 */
public final class JobStream implements AutoCloseable {
  /** The label that marks the stream's jobs, so that nothing else is cleaned up. */
  static final String LABEL = "sandbox.gpumarket.io/stream";

  /** How long a pod of the stream runs, read by the sandbox's kubelet. */
  static final String RUN_SECONDS = "sandbox.gpumarket.io/run-seconds";

  static final Duration KEEP_ENDED = Duration.ofMinutes(2);
  static final Duration GIVE_UP = Duration.ofMinutes(5);
  static final List<String> TENANTS = List.of("ml-team", "render-team");

  private record Kind(
      int weight,
      List<String> models,
      int perReplica,
      int replicas,
      String maxPrice,
      TierRequirement tier,
      List<String> regions,
      Double minUptime) {}

  private static final List<Kind> KINDS =
      List.of(
          new Kind(
              6, List.of("rtx-4090", "rtx-3090"), 1, 1, "0.50", TierRequirement.ANY, null, null),
          new Kind(4, List.of("l40s"), 2, 1, "1.00", TierRequirement.ANY, null, null),
          new Kind(3, List.of("l40s", "a100-40gb"), 1, 2, null, TierRequirement.ANY, null, 0.95),
          new Kind(
              2,
              List.of("a100-80gb", "a100-40gb"),
              4,
              1,
              "2.00",
              TierRequirement.DATACENTER,
              null,
              null),
          new Kind(
              1,
              List.of("h100-80gb"),
              4,
              1,
              "2.50",
              TierRequirement.DATACENTER,
              List.of("eu-west"),
              0.99),
          new Kind(2, List.of("jetson-agx-orin"), 1, 1, null, TierRequirement.EDGE, null, null),
          new Kind(1, List.of("h200-141gb"), 8, 1, "4.00", TierRequirement.ANY, null, null));

  private final KubernetesClient client;
  private final Random random;
  private final AtomicLong created = new AtomicLong();
  private final AtomicLong sequence = new AtomicLong();
  private final ScheduledExecutorService timer = Daemons.single("sandbox-jobs");

  JobStream(KubernetesClient client, long seed) {
    this.client = client;
    this.random = new Random(seed);
  }

  void start(Duration every) {
    timer.scheduleWithFixedDelay(this::tick, 3_000, every.toMillis(), TimeUnit.MILLISECONDS);
  }

  public long created() {
    return created.get();
  }

  private void tick() {
    try {
      client.resources(ComputeJob.class).resource(next()).create();
      created.incrementAndGet();
      cleanUp(Instant.now());
    } catch (KubernetesClientException e) {
      System.err.println("sandbox job stream: " + e.getMessage());
    }
  }

  ComputeJob next() {
    int total = KINDS.stream().mapToInt(Kind::weight).sum();
    int pick = random.nextInt(total);
    Kind kind = KINDS.get(KINDS.size() - 1);
    for (Kind k : KINDS) {
      pick -= k.weight();
      if (pick < 0) {
        kind = k;
        break;
      }
    }
    ComputeJob job = new ComputeJob();
    job.getMetadata().setName(String.format("stream-%05d", sequence.incrementAndGet()));
    job.getMetadata().setNamespace(TENANTS.get(random.nextInt(TENANTS.size())));
    job.getMetadata().getLabels().put(LABEL, "true");
    ComputeJobSpec spec = new ComputeJobSpec();
    spec.gpu = new GpuRequirement();
    spec.gpu.models = kind.models();
    spec.gpu.perReplica = kind.perReplica();
    spec.gpu.tier = kind.tier();
    spec.gpu.regions = kind.regions();
    spec.gpu.minUptimeRatio = kind.minUptime();
    spec.replicas = kind.replicas();
    spec.maxPricePerGpuHour = kind.maxPrice();
    spec.template =
        new PodTemplateSpecBuilder()
            .withNewMetadata()
            .addToAnnotations(RUN_SECONDS, Integer.toString(20 + random.nextInt(60)))
            .endMetadata()
            .withNewSpec()
            .withContainers(
                new ContainerBuilder()
                    .withName("work")
                    .withImage("busybox")
                    .withCommand("sh", "-c", "echo computing")
                    .build())
            .endSpec()
            .build();
    job.setSpec(spec);
    return job;
  }

  private void cleanUp(Instant now) {
    for (ComputeJob job :
        client.resources(ComputeJob.class).inAnyNamespace().withLabel(LABEL).list().getItems()) {
      var status = job.getStatus();
      Instant createdAt = Instant.parse(job.getMetadata().getCreationTimestamp());
      boolean ended =
          status != null
              && status.phase != null
              && status.phase.isFinal()
              && status.completionTime != null
              && Times.parse(status.completionTime).plus(KEEP_ENDED).isBefore(now);
      boolean waitedTooLong =
          (status == null || status.phase == null || status.phase == JobPhase.Pending)
              && createdAt.plus(GIVE_UP).isBefore(now);
      if (ended || waitedTooLong) {
        client.resource(job).delete();
      }
    }
    for (GpuLease lease : client.resources(GpuLease.class).inAnyNamespace().list().getItems()) {
      var status = lease.getStatus();
      if (lease.getMetadata().getOwnerReferences().isEmpty()
          && lease.getMetadata().getName().startsWith("stream-")
          && status != null
          && status.phase == LeasePhase.Released
          && Instant.parse(lease.getMetadata().getCreationTimestamp())
              .plus(GIVE_UP)
              .isBefore(now)) {
        client.resource(lease).delete();
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
