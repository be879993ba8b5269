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
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new io.gpumarket.operator.sandbox.StrictCrudDispatcher(),
            false);
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
