package io.gpumarket.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;

/** fabric8's mock API server in CRUD mode, with the market's CRDs installed. */
final class MockCluster implements AutoCloseable {
  final KubernetesMockServer server;
  final KubernetesClient client;
  final Fleet fleet;

  MockCluster() {
    this(new io.gpumarket.operator.sandbox.StrictCrudDispatcher());
  }

  /** With a dispatcher of a test's own, to answer some requests as a real API server might. */
  MockCluster(io.gpumarket.operator.sandbox.StrictCrudDispatcher dispatcher) {
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    client = server.createClient();
    fleet = new Fleet(client);
    fleet.applyCrds();
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
