package io.gpumarket.operator.sandbox;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.gpumarket.agent.AgentMetrics;
import io.gpumarket.agent.NodeAgent;
import io.gpumarket.agent.SimulatedBackend;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.catalog.GpuCatalog;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One simulated node agent per GpuNode, each behaving as its {@value #BEHAVIOUR} annotation says:
 * by default an honest, steady host; {@code flaps} goes silent for {@link #FLAP_DOWN} every {@link
 * #FLAP_PERIOD}; {@code dies-after=<ISO-8601 duration>} stops for good; {@code reports=<product>}
 * reports another product than the spec declares. A silent host is an agent closed, as when the
 * host loses power; it comes back as a new agent, as after a reboot.
 */
final class SimulatedHosts implements AutoCloseable {
  static final String BEHAVIOUR = "sandbox.gpumarket.io/behaviour";
  static final Duration FLAP_PERIOD = Duration.ofMinutes(4);
  static final Duration FLAP_DOWN = Duration.ofSeconds(75);
  static final Duration FIRST_FLAP = Duration.ofMinutes(2);

  private final KubernetesClient client;
  private final String namespace;
  private final Map<String, NodeAgent> running = new ConcurrentHashMap<>();
  private final ScheduledExecutorService chaos = Daemons.single("sandbox-hosts");

  SimulatedHosts(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Starts an agent for every GpuNode with a usable spec; returns how many. */
  int start() {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .createOr(NonDeletingOperation::update);
    int started = 0;
    for (GpuNode node : client.resources(GpuNode.class).list().getItems()) {
      if (node.getSpec() == null
          || node.getSpec().gpus == null
          || node.getSpec().gpus.count == null) {
        continue;
      }
      String behaviour = node.getMetadata().getAnnotations().getOrDefault(BEHAVIOUR, "");
      String name = node.getMetadata().getName();
      String product =
          behaviour.startsWith("reports=")
              ? behaviour.substring("reports=".length())
              : GpuCatalog.byKey(node.getSpec().gpus.model)
                  .map(m -> m.displayName())
                  .orElse(node.getSpec().gpus.model);
      int count = node.getSpec().gpus.count;
      Runnable up = () -> running.computeIfAbsent(name, n -> startAgent(n, count, product));
      up.run();
      started++;
      if (behaviour.equals("flaps")) {
        chaos.scheduleAtFixedRate(
            () -> down(name), FIRST_FLAP.toSeconds(), FLAP_PERIOD.toSeconds(), TimeUnit.SECONDS);
        chaos.scheduleAtFixedRate(
            up, FIRST_FLAP.plus(FLAP_DOWN).toSeconds(), FLAP_PERIOD.toSeconds(), TimeUnit.SECONDS);
      } else if (behaviour.startsWith("dies-after=")) {
        Duration after = Duration.parse(behaviour.substring("dies-after=".length()));
        chaos.schedule(() -> down(name), after.toSeconds(), TimeUnit.SECONDS);
      }
    }
    return started;
  }

  private NodeAgent startAgent(String node, int count, String product) {
    var agent =
        new NodeAgent(
            client,
            new SimulatedBackend(count, product, node),
            node,
            namespace,
            new AgentMetrics());
    agent.start();
    return agent;
  }

  private void down(String node) {
    NodeAgent agent = running.remove(node);
    if (agent != null) {
      agent.close();
    }
  }

  @Override
  public void close() {
    chaos.shutdownNow();
    running.values().forEach(NodeAgent::close);
    running.clear();
  }
}
