package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpumarket.market.Market;
import io.gpumarket.market.Placement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's parts on a tiny workload: the generator, the market core stream, the quality
 * comparison and the invariants. Not a timed test: it checks that the figures mean what they say.
 */
class MarketBenchSmokeTest {
  private final Workload w = Workload.generate(Workload.Size.of("XS"), 42);

  @Test
  void theGeneratorIsDeterministicAndMixed() {
    Workload again = Workload.generate(Workload.Size.of("XS"), 42);
    assertThat(again.jobs).hasSameSizeAs(w.jobs);
    assertThat(again.jobs.get(7).request().models()).isEqualTo(w.jobs.get(7).request().models());
    assertThat(w.nodes).hasSize(20);
    assertThat(w.offers).hasSize(40);
    assertThat(w.jobs).hasSize(200);
    assertThat(w.jobs.stream().filter(j -> j.unservable() != null).count()).isBetween(2L, 30L);
    assertThat(w.jobs.stream().filter(j -> j.replicas() > 1)).isNotEmpty();
  }

  @Test
  void theCoreStreamKeepsItsInvariants() {
    Map<String, Object> core = CoreBench.run(w);
    assertThat((Integer) core.get("decisions")).isEqualTo(200);
    assertThat((Integer) core.get("placements")).isPositive();
    @SuppressWarnings("unchecked")
    Map<String, Object> invariants = (Map<String, Object>) core.get("invariants");
    assertThat(invariants.get("ok")).as("%s", invariants).isEqualTo(true);
  }

  @Test
  void theOptimumBoundIsNeverAboveWhatAPolicyPays() {
    Quality.Result q = new Quality(w).run();
    assertThat(q.invariants().ok()).as("%s", q.invariants().violations).isTrue();
    assertThat(q.invariants().waiting).isEqualTo(q.invariants().waitingWithReason);
    assertThat(q.policies())
        .extracting(Quality.Policy::name)
        .containsExactly("market", "market, arrival order", "first-fit", "random-fit");
    for (Quality.Policy p : q.policies()) {
      assertThat(p.bound()).as(p.name()).isLessThanOrEqualTo(p.cost() + 1e-9);
      assertThat(p.gpus()).as(p.name()).isLessThanOrEqualTo(q.maxPlaceable());
    }
    assertThat(q.policies().get(0).gpus()).isPositive();
    // Every GPU the market leaves unplaced has a cause, and those no offer could serve alone are
    // out of the bound's reach too.
    long unplaced = q.marketUnplaced().values().stream().mapToLong(Long::longValue).sum();
    assertThat(q.policies().get(0).gpus() + unplaced).isEqualTo(q.batchGpus());
    long unservable = q.marketUnplaced().get(Quality.CAUSES.get(0));
    assertThat(unservable).isPositive();
    assertThat(q.maxPlaceable()).isLessThanOrEqualTo(q.batchGpus() - unservable);
  }

  @Test
  void theInvariantChecksCatchAnOvercommittedNode() {
    Quality quality = new Quality(w);
    Market market = new Market(w.nodeStates(), w.offerStates());
    Workload.Job job =
        w.jobs.stream()
            .filter(j -> market.place(j.request()) instanceof Placement)
            .findFirst()
            .orElseThrow();
    Placement p = (Placement) market.place(job.request());
    Quality.Ledger ledger = quality.new Ledger();
    ledger.take(p);
    // The same GPUs taken twice on the benchmark's own ledger: the check must refuse the second.
    String node = p.blockNodes().get(0);
    int free =
        w.nodes.stream()
            .filter(n -> n.state().name().equals(node))
            .findFirst()
            .orElseThrow()
            .state()
            .healthyGpus();
    for (int i = 0; i * p.gpusPerBlock() < free; i++) {
      ledger.take(p);
    }
    assertThat(ledger.check(p, job.request())).contains("over");
  }
}
