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
import java.util.concurrent.Executors;
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

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final ScheduledExecutorService kubelet =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "sandbox-kubelet");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, Instant> started = new HashMap<>();
  private final List<io.gpumarket.agent.NodeAgent> agents = new java.util.ArrayList<>();

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
    sandbox.installCrds();
    return sandbox;
  }

  public String url() {
    return client.getConfiguration().getMasterUrl();
  }

  public KubernetesClient client() {
    return client;
  }

  private void installCrds() {
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
            && now.isAfter(started.getOrDefault(key, now).plus(RUN_TIME))) {
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
   * Starts a node agent for every GpuNode, simulating the GPUs its spec declares (the catalog's
   * product name, the declared count), so the hosts are Ready by heartbeat as on a real fleet.
   */
  public int startAgents(String namespace) {
    client
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName(namespace)
                .endMetadata()
                .build())
        .createOr(NonDeletingOperation::update);
    int started = 0;
    for (GpuNode node : client.resources(GpuNode.class).list().getItems()) {
      if (node.getSpec() == null
          || node.getSpec().gpus == null
          || node.getSpec().gpus.count == null) {
        continue;
      }
      String product =
          io.gpumarket.catalog.GpuCatalog.byKey(node.getSpec().gpus.model)
              .map(m -> m.displayName())
              .orElse(node.getSpec().gpus.model);
      var agent =
          new io.gpumarket.agent.NodeAgent(
              client,
              new io.gpumarket.agent.SimulatedBackend(
                  node.getSpec().gpus.count, product, node.getMetadata().getName()),
              node.getMetadata().getName(),
              namespace,
              new io.gpumarket.agent.AgentMetrics());
      agent.start();
      agents.add(agent);
      started++;
    }
    return started;
  }

  @Override
  public void close() {
    agents.forEach(io.gpumarket.agent.NodeAgent::close);
    kubelet.shutdownNow();
    client.close();
    server.destroy();
  }
}
