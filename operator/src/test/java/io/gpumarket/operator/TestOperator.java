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
      Options options,
      MarketCaches caches) {
    this.caches = caches;
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
    java.util.function.Consumer<
            io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider<?>>
        failsafe =
            c -> {
              if (options.failsafe() != null) {
                c.withReconciliationMaxInterval(options.failsafe());
              }
            };
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
            options.acceptSimulatedGpus()),
        failsafe::accept);
    operator.register(
        new GpuOfferReconciler(
            caches, events, options.offerCountsInterval(), options.offerCountsWritesPerSecond()),
        failsafe::accept);
    operator.register(
        new GpuLeaseReconciler(
            binder,
            quotas,
            metrics,
            caches,
            events,
            options.leaseRetention(),
            Duration.ofMinutes(1),
            10),
        failsafe::accept);
    operator.register(new ComputeJobReconciler(caches, run), failsafe::accept);
  }

  /** Its metrics, as its /metrics endpoint would show them. */
  public MarketMetrics metrics() {
    return metrics;
  }

  /** A job's steps alone, without an operator: for a test that drives them at times of its own. */
  static JobRun jobRun(KubernetesClient client) {
    return new JobRun(
        client,
        new EventRecorder(client),
        new MarketMetrics(new MarketCaches()),
        Duration.ofSeconds(2));
  }

  static TestOperator start(KubernetesClient client) {
    return start(client, o -> {});
  }

  /**
   * Starts one with further settings (the benchmark's metrics and reconcile threads) and the
   * operator's own timing where tests shorten it.
   */
  public static TestOperator start(
      KubernetesClient client,
      java.util.function.Consumer<
              io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider>
          settings) {
    return start(
        client,
        settings,
        Options.TESTS.withOfferCountsInterval(Duration.parse(GpuOfferReconciler.COUNTS_EVERY)));
  }

  /**
   * Settings that differ between tests.
   *
   * @param acceptSimulatedGpus whether a node whose agent simulates its GPUs can be verified: every
   *     agent of the tests simulates; the operator's default is not to
   * @param leaseRetention how long an ended lease of a deleted job is kept (default 30 days)
   * @param offerCountsInterval how often offers' counts alone are written: tests wait for them, the
   *     default is 10 s
   * @param offerCountsWritesPerSecond how many counts writes all offers make together at most (the
   *     default, 10)
   * @param failsafe the longest a resource goes without a reconcile when no event comes; null for
   *     the controllers' own (an hour, {@link Failsafe})
   */
  record Options(
      boolean acceptSimulatedGpus,
      Duration leaseRetention,
      Duration offerCountsInterval,
      double offerCountsWritesPerSecond,
      Duration failsafe) {
    static final Options TESTS =
        new Options(true, Duration.ofDays(30), Duration.ofSeconds(1), 10, null);

    Options withAcceptSimulatedGpus(boolean accept) {
      return new Options(
          accept, leaseRetention, offerCountsInterval, offerCountsWritesPerSecond, failsafe);
    }

    Options withLeaseRetention(Duration keep) {
      return new Options(
          acceptSimulatedGpus, keep, offerCountsInterval, offerCountsWritesPerSecond, failsafe);
    }

    Options withOfferCountsInterval(Duration every) {
      return new Options(
          acceptSimulatedGpus, leaseRetention, every, offerCountsWritesPerSecond, failsafe);
    }

    Options withOfferCountsWritesPerSecond(double writes) {
      return new Options(
          acceptSimulatedGpus, leaseRetention, offerCountsInterval, writes, failsafe);
    }

    Options withFailsafe(Duration every) {
      return new Options(
          acceptSimulatedGpus,
          leaseRetention,
          offerCountsInterval,
          offerCountsWritesPerSecond,
          every);
    }
  }

  static TestOperator start(KubernetesClient client, Options options) {
    return start(client, o -> {}, options);
  }

  /** With further settings and tests' own timing. */
  static TestOperator start(
      KubernetesClient client,
      java.util.function.Consumer<
              io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider>
          settings,
      Options options) {
    return new TestOperator(client, settings, options, new MarketCaches()).started();
  }

  /** On caches a test set up first (a listener of a shared informer ahead of the controllers'). */
  static TestOperator start(KubernetesClient client, MarketCaches caches) {
    return new TestOperator(client, o -> {}, Options.TESTS, caches).started();
  }

  private TestOperator started() {
    operator.start();
    return this;
  }

  @Override
  public void close() {
    operator.stop();
  }
}
