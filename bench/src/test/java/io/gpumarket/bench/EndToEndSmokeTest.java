package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end part on a tiny workload against the mock API server: the operator binds jobs, the
 * invariants hold, and every kind of write it made is replayed for the ceiling by as many writers
 * as it has reconcile threads. Not a timed test: it checks that the figures are there and sane.
 */
class EndToEndSmokeTest {

  @Test
  void theOperatorBindsJobsAndEveryKindOfItsWritesIsReplayedForTheCeiling() throws Exception {
    System.setProperty("bench.rawWrites", "24");
    System.setProperty("bench.rawMixJobs", "30");
    Map<String, Object> e2e;
    try {
      e2e = EndToEnd.run(Workload.generate(Workload.Size.of("XS"), 42), null);
    } finally {
      System.clearProperty("bench.rawWrites");
      System.clearProperty("bench.rawMixJobs");
    }

    assertThat(e2e.get("run")).isEqualTo(true);
    assertThat(((Number) e2e.get("jobsBound")).intValue()).isPositive();
    // A warm-up wave bound the same jobs under other names before the counted one; clearing it
    // fails the run unless every GPU it held is back on the market. Which of the jobs bind may
    // differ between the waves, as they reach the operator in another order.
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> warmups = (List<Map<String, Object>>) e2e.get("warmupWaves");
    assertThat(warmups).hasSize(EndToEnd.WARMUP_WAVES).isNotEmpty();
    assertThat(warmups.get(0).get("jobsCreated")).isEqualTo(e2e.get("jobsCreated"));
    assertThat(((Number) warmups.get(0).get("jobsBound")).intValue()).isPositive();
    assertThat(((Number) warmups.get(0).get("clearSeconds")).doubleValue()).isPositive();
    assertThat(((Number) warmups.get(0).get("cpuMsPerJob")).doubleValue()).isPositive();
    @SuppressWarnings("unchecked")
    Map<String, Object> invariants = (Map<String, Object>) e2e.get("invariants");
    assertThat(invariants.get("ok")).as("%s", invariants).isEqualTo(true);

    assertThat(e2e.get("rawWriters")).isEqualTo(EndToEnd.RECONCILE_THREADS);
    @SuppressWarnings("unchecked")
    Map<String, Double> perJob = (Map<String, Double>) e2e.get("writesPerBoundJobByKind");
    @SuppressWarnings("unchecked")
    Map<String, Double> rates = (Map<String, Double>) e2e.get("rawRatesPerSecondByKind");
    assertThat(rates.keySet()).containsAll(perJob.keySet());
    assertThat(rates.values()).allSatisfy(r -> assertThat(r).isFinite().isPositive());
    // Each kind is replayed in rounds, and the rate kept is their median.
    @SuppressWarnings("unchecked")
    Map<String, List<Double>> rounds =
        (Map<String, List<Double>>) e2e.get("rawRoundRatesPerSecondByKind");
    assertThat(rounds.keySet()).isEqualTo(rates.keySet());
    rounds.forEach(
        (kind, perRound) -> {
          assertThat(perRound).hasSize(3);
          List<Double> sorted = perRound.stream().sorted().toList();
          assertThat(rates.get(kind)).isEqualTo(sorted.get(1));
        });
    // The timeline ends with every job created and the bound ones bound.
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> timeline = (List<Map<String, Object>>) e2e.get("timeline");
    assertThat(timeline).isNotEmpty();
    Map<String, Object> last = timeline.get(timeline.size() - 1);
    assertThat(last.get("created")).isEqualTo(e2e.get("jobsCreated"));
    assertThat(last.get("bound")).isEqualTo(e2e.get("jobsBound"));
    assertThat(timeline)
        .allSatisfy(
            row -> assertThat(((Number) row.get("operatorCores")).doubleValue()).isNotNegative());
    // Every 409 is told by the write it answered.
    @SuppressWarnings("unchecked")
    Map<String, Long> conflicts = (Map<String, Long>) e2e.get("conflictsByKind");
    assertThat(conflicts.values().stream().mapToLong(Number::longValue).sum())
        .isEqualTo(((Number) e2e.get("conflicts")).longValue());
    double fraction = ((Number) e2e.get("fractionOfCeiling")).doubleValue();
    assertThat(fraction).isPositive();
    // The ceiling is the replay of every kind at once, all of its writes taken.
    assertThat(e2e.get("ceilingMethod")).isEqualTo("mix");
    assertThat(((Number) e2e.get("mixWrites")).intValue()).isGreaterThanOrEqualTo(30);
    assertThat((Map<?, ?>) e2e.get("mixFailedWritesByKind")).isEmpty();
    assertThat(((Number) e2e.get("ceilingByKindJobsPerSecond")).doubleValue()).isPositive();

    // Memory and CPU are the operator's JVM's own, under its 512 MiB cap.
    assertThat(((Number) e2e.get("heapAfterGcMiB")).doubleValue()).isBetween(1.0, 512.0);
    double cpu = ((Number) e2e.get("cpuMsPerJob")).doubleValue();
    assertThat(cpu).isPositive();
    assertThat(((Number) e2e.get("idleOperatorCores")).doubleValue()).isNotNegative();
    assertThat(((Number) e2e.get("cpuMsPerJobBesidesIdle")).doubleValue()).isBetween(0.0, cpu);
    // The mock server runs in the benchmark's JVM, all on this host: the machine's CPU per job
    // holds the operator's, counted from /proc as the JVM counts it.
    @SuppressWarnings("unchecked")
    Map<String, Double> host = (Map<String, Double>) e2e.get("hostCpuMsPerJob");
    if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/self/stat"))) {
      assertThat(host.get("operator"))
          .isCloseTo(cpu, org.assertj.core.data.Offset.offset(cpu / 4 + 1));
      assertThat(host.get("machine")).isGreaterThan(host.get("operator") * 0.9);
      assertThat(host).containsKey("benchmark");
      // The replay, through the mock server in the benchmark's JVM, spent CPU there.
      @SuppressWarnings("unchecked")
      Map<String, Double> replay = (Map<String, Double>) e2e.get("ceilingHostCpuMsPerJob");
      assertThat(replay.get("benchmark")).isPositive();
      assertThat(replay.get("machine")).isGreaterThan(replay.get("benchmark") * 0.9);
      // The operator's threads, by what they do, add up to its process's CPU; its HTTP client
      // and its reconcile threads both worked.
      @SuppressWarnings("unchecked")
      Map<String, Double> threads = (Map<String, Double>) e2e.get("operatorThreadCpuMsPerJob");
      assertThat(threads.keySet())
          .containsExactly("http client", "reconcile", "gc", "jit", "other");
      assertThat(threads.values().stream().mapToDouble(Double::doubleValue).sum())
          .isCloseTo(host.get("operator"), org.assertj.core.data.Offset.offset(cpu / 4 + 1));
      assertThat(threads.get("http client")).isPositive();
      assertThat(threads.get("reconcile")).isPositive();
    }
    // The collections of the operator's collectors (G1, as its image runs it) in the wave, with
    // their pause time: a short wave may have none.
    @SuppressWarnings("unchecked")
    Map<String, Object> collections = (Map<String, Object>) e2e.get("gcCollections");
    @SuppressWarnings("unchecked")
    Map<String, Object> pauses = (Map<String, Object>) e2e.get("gcPauseMillis");
    assertThat(collections.keySet()).isSubsetOf("G1 Young Generation", "G1 Old Generation");
    assertThat(pauses.keySet()).isSubsetOf(collections.keySet());
    // A fresh JVM compiles as it first binds: the count is the operator's, and part of its CPU.
    assertThat(((Number) e2e.get("jitCompileMsPerJob")).doubleValue()).isPositive();
    @SuppressWarnings("unchecked")
    List<String> largest = (List<String>) e2e.get("largestClassesInHeap");
    assertThat(largest).isNotEmpty().allSatisfy(row -> assertThat(row).matches("\\d+: .*"));
  }

  @Test
  void anOperatorOutOfHeapFailsTheRunSayingSo() {
    System.setProperty("bench.operatorHeap", "12m");
    try {
      assertThatThrownBy(() -> EndToEnd.run(Workload.generate(Workload.Size.of("XS"), 42), null))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("the operator's JVM stopped answering (exit code 3")
          .hasMessageContaining("OutOfMemoryError")
          .hasMessageContaining("12m heap");
    } finally {
      System.clearProperty("bench.operatorHeap");
    }
  }
}
