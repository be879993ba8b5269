package io.gpumarket.operator.sandbox;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.gpumarket.api.tools.CrdFinisher;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.operator.Labels;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The market with no cluster: an embedded API server (fabric8's CRUD mock, with {@link
 * StrictCrudDispatcher}), the CRDs, a Ready Node for every GpuNode, the manifests of {@code
 * manifests/examples/}, and a stand-in kubelet that starts pods and lets them finish. The operator
 * itself runs unchanged against it.
 */
public final class Sandbox implements AutoCloseable {
  /** How long a sandbox pod runs before it succeeds. */
  static final Duration RUN_TIME = Duration.ofSeconds(30);

  /** How long the embedded API server keeps an event. */
  static final Duration EVENT_TTL = Duration.ofMinutes(15);

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final ScheduledExecutorService kubelet = Daemons.single("sandbox-kubelet");
  private final Map<String, Instant> started = new HashMap<>();
  private final Map<String, SimulatedHosts> hosts = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<JobStream> streams = new java.util.concurrent.CopyOnWriteArrayList<>();

  private Sandbox(KubernetesMockServer server) {
    this.server = server;
    this.client = server.createClient();
  }

  /** Starts the embedded API server on a free loopback port. */
  public static Sandbox start() {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), new StrictCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    Sandbox sandbox = new Sandbox(server);
    installCrds(sandbox.client);
    return sandbox;
  }

  public String url() {
    return client.getConfiguration().getMasterUrl();
  }

  public KubernetesClient client() {
    return client;
  }

  /**
   * Installs the CRDs the build generated, as they are committed in {@code manifests/crds/}, and
   * registers the resource types with the client's serialization.
   */
  public static void installCrds(KubernetesClient client) {
    for (Class<?> resource : CrdFinisher.RESOURCES) {
      String file = "/META-INF/fabric8/" + CrdFinisher.crdFileName(resource);
      try (InputStream in = Sandbox.class.getResourceAsStream(file)) {
        var crd = client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .resource(crd)
            .createOr(NonDeletingOperation::update);
      } catch (IOException e) {
        throw new IllegalStateException("cannot read " + file, e);
      }
    }
    for (Class<? extends HasMetadata> type :
        List.of(GpuNode.class, GpuOffer.class, GpuLease.class, ComputeJob.class)) {
      client.getKubernetesSerialization().registerKubernetesResource(type);
    }
  }

  /** Applies every manifest of a folder, in file-name order, creating Nodes for the GpuNodes. */
  public int apply(Path folder) throws IOException {
    int applied = 0;
    List<Path> files;
    try (Stream<Path> list = Files.list(folder)) {
      files =
          list.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
              .sorted()
              .toList();
    }
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        applied += apply(in);
      }
    }
    return applied;
  }

  /**
   * Applies the sandbox's own provider (see {@code fleet.yaml}): competing offers and hosts that
   * flap, die or lie about their GPUs.
   */
  public int applyFleet() throws IOException {
    try (InputStream in = Sandbox.class.getResourceAsStream("fleet.yaml")) {
      return apply(in);
    }
  }

  private int apply(InputStream in) {
    int applied = 0;
    for (HasMetadata item : client.load(in).items()) {
      if (item instanceof GpuNode node) {
        readyNode(node.getSpec().nodeName);
      }
      try {
        client.resource(item).createOr(NonDeletingOperation::update);
        applied++;
      } catch (KubernetesClientException e) {
        System.err.printf(
            "sandbox: %s %s/%s refused: %s%n",
            item.getKind(),
            item.getMetadata().getNamespace(),
            item.getMetadata().getName(),
            e.getMessage());
      }
    }
    return applied;
  }

  private void readyNode(String name) {
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("kubernetes.io/hostname", name)
                .endMetadata()
                .withNewStatus()
                .addNewCondition()
                .withType("Ready")
                .withStatus("True")
                .withReason("KubeletReady")
                .endCondition()
                .addToCapacity(
                    Labels.GPU_RESOURCE, new io.fabric8.kubernetes.api.model.Quantity("8"))
                .endStatus()
                .build())
        .createOr(NonDeletingOperation::update);
  }

  /**
   * Plays the kubelet: a pod starts a second after it is created and succeeds after {@link
   * #RUN_TIME}.
   */
  public void startKubelet() {
    kubelet.scheduleWithFixedDelay(this::kubeletPass, 1, 1, TimeUnit.SECONDS);
    kubelet.scheduleWithFixedDelay(this::expireEvents, 1, 1, TimeUnit.MINUTES);
  }

  private void kubeletPass() {
    try {
      Instant now = Instant.now();
      for (Pod pod :
          client
              .pods()
              .inAnyNamespace()
              .withLabel(Labels.MANAGED_BY, Labels.MANAGER)
              .list()
              .getItems()) {
        String key = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
        String phase =
            pod.getStatus() == null || pod.getStatus().getPhase() == null
                ? "Pending"
                : pod.getStatus().getPhase();
        if (phase.equals("Pending")) {
          setPhase(pod, "Running");
          started.put(key, now);
        } else if (phase.equals("Running")
            && now.isAfter(started.getOrDefault(key, now).plus(runTime(pod)))) {
          setPhase(pod, "Succeeded");
          started.remove(key);
        } else if (phase.equals("Running")) {
          started.putIfAbsent(key, now);
        }
      }
    } catch (RuntimeException e) {
      System.err.println("sandbox kubelet: " + e.getMessage());
    }
  }

  /**
   * Deletes events older than {@link #EVENT_TTL}, as a real API server does (after an hour by
   * default): the embedded one slows down with every object it holds.
   */
  private void expireEvents() {
    try {
      Instant cutoff = Instant.now().minus(EVENT_TTL);
      for (var event : client.v1().events().inAnyNamespace().list().getItems()) {
        String last = event.getLastTimestamp();
        if (last != null && Instant.parse(last).isBefore(cutoff)) {
          client.resource(event).delete();
        }
      }
    } catch (RuntimeException e) {
      System.err.println("sandbox event expiry: " + e.getMessage());
    }
  }

  private static Duration runTime(Pod pod) {
    String seconds = pod.getMetadata().getAnnotations().get(JobStream.RUN_SECONDS);
    try {
      return seconds == null ? RUN_TIME : Duration.ofSeconds(Long.parseLong(seconds));
    } catch (NumberFormatException e) {
      return RUN_TIME;
    }
  }

  private void setPhase(Pod pod, String phase) {
    if (pod.getStatus() == null) {
      pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
    }
    pod.getStatus().setPhase(phase);
    pod.getStatus().setHostIP("127.0.0.1");
    try {
      client.pods().resource(pod).updateStatus();
    } catch (KubernetesClientException e) {
      // The pod changed or went away; the next pass sees it again.
    }
  }

  /**
   * Starts a simulated node agent for every GpuNode, each simulating the GPUs its spec declares
   * unless its {@code sandbox.gpumarket.io/behaviour} annotation says otherwise (see {@link
   * SimulatedHosts}), so the hosts are Ready by heartbeat as on a real fleet.
   */
  public int startAgents(String namespace) {
    return hosts.computeIfAbsent(namespace, n -> new SimulatedHosts(client, n)).start();
  }

  /** Starts a steady stream of tenants' jobs, one every {@code every}. */
  public JobStream startJobStream(Duration every, long seed) {
    JobStream stream = new JobStream(client, seed);
    stream.start(every);
    streams.add(stream);
    return stream;
  }

  @Override
  public void close() {
    streams.forEach(JobStream::close);
    hosts.values().forEach(SimulatedHosts::close);
    kubelet.shutdownNow();
    client.close();
    server.destroy();
  }
}
