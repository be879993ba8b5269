package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.market.Decision;
import io.gpumarket.market.Placement;
import io.gpumarket.market.PlacementRequest;
import io.gpumarket.market.Refusal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Binds running side by side in one process, as the operator's reconcile threads run them: a slow
 * ledger write holds up no other bind, binds packed onto one node do not fail on each other's
 * resourceVersions, and no GPU is held twice. Each lease is decided alone, as it comes: the order
 * of leases that wait together is {@link PendingBatchTest}'s.
 */
class LeaseBinderTest {

  @Test
  void aSlowLedgerWriteHoldsUpNoBindElsewhere() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (MockCluster cluster = new MockCluster()) {
      fleet(cluster, 2, 8);
      Caches caches = new Caches(cluster);
      LeaseBinder binder = LeaseBinder.inArrivalOrder(cluster.client, metrics());

      // The first bind takes all of one node and stalls just before writing its ledger.
      CountDownLatch resume = caches.stallBeforeWriting("first");
      Future<Decision> first = pool.submit(() -> binder.bind(lease("first"), request(8), caches));
      caches.awaitStalled();

      Future<Decision> second = pool.submit(() -> binder.bind(lease("second"), request(8), caches));
      // Were the binder locked across the write, this would wait for the stalled one.
      Placement other = (Placement) second.get(5, TimeUnit.SECONDS);
      resume.countDown();
      Placement stalled = (Placement) first.get(10, TimeUnit.SECONDS);

      assertThat(ledger(cluster))
          .containsExactlyInAnyOrder(
              stalled.blockNodes().get(0) + ": first=8", other.blockNodes().get(0) + ": second=8");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void bindsPackedOntoOneNodeWaitForEachOtherInsteadOfConflicting() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (MockCluster cluster = new MockCluster()) {
      fleet(cluster, 1, 8);
      Caches caches = new Caches(cluster);
      LeaseBinder binder = LeaseBinder.inArrivalOrder(cluster.client, metrics());

      CountDownLatch resume = caches.stallBeforeWriting("first");
      Future<Decision> first = pool.submit(() -> binder.bind(lease("first"), request(3), caches));
      caches.awaitStalled();
      // Decided while the first bind's write is under way: its GPUs count as taken already.
      var binding = new java.util.concurrent.atomic.AtomicReference<Thread>();
      Future<Decision> second =
          pool.submit(
              () -> {
                binding.set(Thread.currentThread());
                return binder.bind(lease("second"), request(5), caches);
              });
      // Once it waits for the node, the second bind has decided.
      while (binding.get() == null || binding.get().getState() != Thread.State.BLOCKED) {
        Thread.onSpinWait();
      }
      Decision full = binder.bind(lease("third"), request(1), caches);
      resume.countDown();

      assertThat(first.get(10, TimeUnit.SECONDS)).isInstanceOf(Placement.class);
      assertThat(second.get(10, TimeUnit.SECONDS)).isInstanceOf(Placement.class);
      assertThat(full).isInstanceOf(Refusal.class);
      assertThat(ledger(cluster)).containsExactlyInAnyOrder("h0: first=3", "h0: second=5");
    } finally {
      pool.shutdownNow();
    }
  }

  /** Eight threads bind two hundred leases of 1 to 4 GPUs onto 16 nodes of 8 until none fits. */
  @Test
  void bindsSideBySideNeverHoldAGpuTwice() throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      fleet(cluster, 16, 8);
      Caches caches = new Caches(cluster);
      LeaseBinder binder = LeaseBinder.inArrivalOrder(cluster.client, metrics());
      Map<String, Placement> placed = new ConcurrentHashMap<>();
      AtomicInteger retries = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> binds = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String name = "l" + i;
        int gpus = 1 + i % 4;
        binds.add(
            pool.submit(
                () -> {
                  for (int attempt = 0; attempt < 50; attempt++) {
                    try {
                      if (binder.bind(lease(name), request(gpus), caches) instanceof Placement p) {
                        placed.put(name, p);
                      }
                      return;
                    } catch (LeaseBinder.Retry | KubernetesClientException e) {
                      retries.incrementAndGet();
                    }
                  }
                }));
      }
      for (Future<?> bind : binds) {
        bind.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();

      int placedGpus =
          placed.values().stream()
              .mapToInt(p -> p.gpusByNode().values().stream().mapToInt(Integer::intValue).sum())
              .sum();
      List<GpuNode> nodes = cluster.client.resources(GpuNode.class).list().getItems();
      int held = 0;
      for (GpuNode node : nodes) {
        int onNode = node.getStatus().allocations.stream().mapToInt(GpuAllocation::gpus).sum();
        assertThat(onNode).as(node.getMetadata().getName()).isLessThanOrEqualTo(8);
        assertThat(node.getStatus().leasedGpus).isEqualTo(onNode);
        held += onNode;
      }
      assertThat(held).isEqualTo(placedGpus).isEqualTo(128);
      assertThat(
              nodes.stream()
                  .flatMap(n -> n.getStatus().allocations.stream())
                  .map(a -> a.lease.name))
          .doesNotHaveDuplicates()
          .hasSize(placed.size());
      // Decisions see the GPUs of writes still under way, and writes to one node wait for each
      // other: with caches that miss nothing, no bind has to be tried again.
      assertThat(retries.get()).isZero();
    }
  }

  private static void fleet(MockCluster cluster, int hosts, int gpus) {
    Fleet fleet = cluster.fleet;
    fleet.namespace("tenant", Map.of("gpumarket.io/tenant", "true"));
    for (int i = 0; i < hosts; i++) {
      GpuNode host = fleet.gpuNode("h" + i, "acme", Tier.DATACENTER, "eu", "h100-80gb", gpus);
      host.setStatus(MarketSnapshotTest.status(gpus, true));
      cluster.client.resources(GpuNode.class).resource(host).updateStatus();
    }
    fleet.offer("acme", "h100", "acme", "h100-80gb", "2.40");
  }

  private static List<String> ledger(MockCluster cluster) {
    return cluster.client.resources(GpuNode.class).list().getItems().stream()
        .flatMap(
            n ->
                n.getStatus().allocations.stream()
                    .map(a -> n.getMetadata().getName() + ": " + a.lease.name + "=" + a.gpus))
        .toList();
  }

  private static MarketMetrics metrics() {
    return new MarketMetrics(new MarketCaches());
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Informer caches shared by threads: they hold what was listed at the start and own writes. */
  /** A replica's caches that can stall one bind just before it writes its ledger. */
  private static final class Caches extends ReplicaCaches {
    private final Map<String, Runnable> stalls = new ConcurrentHashMap<>();
    private final Set<String> stalled = ConcurrentHashMap.newKeySet();
    private final CountDownLatch stalledOne = new CountDownLatch(1);

    Caches(MockCluster cluster) {
      super(cluster);
    }

    /**
     * Stalls the thread binding {@code lease} once it is about to write a node, until the latch
     * returned is counted down.
     */
    CountDownLatch stallBeforeWriting(String lease) {
      CountDownLatch resume = new CountDownLatch(1);
      stalls.put(
          lease,
          () -> {
            stalledOne.countDown();
            await(resume);
          });
      return resume;
    }

    void awaitStalled() throws InterruptedException {
      assertThat(stalledOne.await(10, TimeUnit.SECONDS)).as("a bind stalled").isTrue();
    }

    @Override
    public GpuNode node(String name) {
      String binding = BINDING.get();
      if (binding != null && stalls.containsKey(binding) && stalled.add(binding)) {
        stalls.get(binding).run();
      }
      return super.node(name);
    }
  }

  /** The lease a thread binds, so that the caches can stall that bind alone. */
  private static final ThreadLocal<String> BINDING = new ThreadLocal<>();

  private static GpuLease lease(String name) {
    BINDING.set(name);
    return MarketSnapshotTest.lease(name);
  }

  private static PlacementRequest request(int gpus) {
    return MarketSnapshotTest.request(gpus);
  }

  private static String name(GpuNode node) {
    return node.getMetadata().getName();
  }
}
