package io.gpumarket.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Duration;

/**
 * The operator wired by hand, without CDI, exactly as Quarkus wires it: a test can start one, stop
 * it (a crash or a restart), or run two at once against the same API server.
 */
public final class TestOperator implements AutoCloseable {
  final Operator operator;
  final MarketMetrics metrics;
  final MarketCaches caches;

  private TestOperator(
      KubernetesClient client,
      java.util.function.Consumer<
              io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider>
          settings,
      boolean acceptSimulatedGpus) {
    caches = new MarketCaches();
    metrics = new MarketMetrics(caches);
    var events = new EventRecorder(client);
    var binder = new LeaseBinder(client, metrics);
    var quotas = new QuotaKeeper(client);
    var run = new JobRun(client, events, metrics, Duration.ofSeconds(2));
    operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withSSABasedCreateUpdateMatchForDependentResources(false)
                  .withCloseClientOnStop(false)
                  .withStopOnInformerErrorDuringStartup(false);
              settings.accept(o);
            });
    operator.register(
        new GpuNodeReconciler(
            caches,
            events,
            metrics,
            "gpumarket-system",
            32,
            4,
            Duration.ofSeconds(3),
            Duration.ofSeconds(5),
            0.01,
            acceptSimulatedGpus));
    operator.register(new GpuOfferReconciler(caches, events));
    operator.register(new GpuLeaseReconciler(binder, quotas, metrics, caches, events));
    operator.register(new ComputeJobReconciler(caches, run));
  }

  static TestOperator start(KubernetesClient client) {
    return start(client, o -> {});
  }

  /** Starts one with further settings: the benchmark's metrics and reconcile threads. */
  public static TestOperator start(
      KubernetesClient client,
      java.util.function.Consumer<
              io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider>
          settings) {
    TestOperator t = new TestOperator(client, settings, true);
    t.operator.start();
    return t;
  }

  /**
   * One that, like the operator's default, does not verify a node whose agent simulates its GPUs
   * (the others accept them: every agent of the tests simulates).
   */
  static TestOperator startRejectingSimulatedGpus(KubernetesClient client) {
    TestOperator t = new TestOperator(client, o -> {}, false);
    t.operator.start();
    return t;
  }

  @Override
  public void close() {
    operator.stop();
  }
}
