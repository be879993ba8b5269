package io.gpumarket.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.prometheus.client.exporter.HTTPServer;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the node agent. {@code GPUMARKET_GPUNODE} names the GpuNode; without it, the GpuNode whose
 * {@code spec.nodeName} is {@code NODE_NAME} (the Downward API's spec.nodeName). Metrics on {@code
 * GPUMARKET_METRICS_PORT} (9400); heartbeats into {@code GPUMARKET_NAMESPACE} (gpumarket-system).
 */
public final class AgentMain {
  private AgentMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    KubernetesClient client = new KubernetesClientBuilder().build();
    String gpuNode = env.get("GPUMARKET_GPUNODE");
    if (gpuNode == null) {
      String nodeName = env.get("NODE_NAME");
      gpuNode =
          client.resources(GpuNode.class).list().getItems().stream()
              .filter(
                  n ->
                      n.getSpec() != null
                          && nodeName != null
                          && nodeName.equals(n.getSpec().nodeName))
              .map(n -> n.getMetadata().getName())
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "no GpuNode has spec.nodeName "
                              + nodeName
                              + "; set GPUMARKET_GPUNODE or NODE_NAME"));
    }
    AgentMetrics metrics = new AgentMetrics();
    int port = Integer.parseInt(env.getOrDefault("GPUMARKET_METRICS_PORT", "9400"));
    HTTPServer server = new HTTPServer(new InetSocketAddress(port), metrics.registry(), true);
    NodeAgent agent =
        new NodeAgent(
            client,
            Backends.select(env, gpuNode),
            gpuNode,
            env.getOrDefault("GPUMARKET_NAMESPACE", "gpumarket-system"),
            metrics);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  agent.close();
                  server.close();
                  client.close();
                  stop.countDown();
                }));
    agent.start();
    stop.await();
  }
}
