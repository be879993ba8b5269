package io.gpumarket.operator.sandbox;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The sandbox's background work runs on daemon threads, so that Ctrl-C is never held up. */
final class Daemons {
  private Daemons() {}

  static ScheduledExecutorService single(String name) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }
}
