package io.gpumarket.bench;

import io.gpumarket.operator.sandbox.Sandbox;
import java.io.IOException;

/**
 * fabric8's mock API server in CRUD mode with the market's CRDs, in a process of its own so that
 * the operator's CPU and memory are measured apart from the server's. Prints its URL, then serves
 * until its standard input closes.
 */
public final class MockApiServer {
  private MockApiServer() {}

  public static void main(String... args) throws IOException {
    java.util.logging.LogManager.getLogManager().reset();
    try (Sandbox sandbox = Sandbox.start()) {
      System.out.println("url " + sandbox.url());
      System.out.flush();
      while (System.in.read() >= 0) {
        // serve until the benchmark goes away
      }
    }
    System.exit(0);
  }
}
