package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostCpuTest {
  @TempDir Path proc;

  @Test
  void splitsTheMachinesCpuPerJobByProcessNamingTheLabelledOnes() throws IOException {
    machine(1000);
    process(10, "kube-apiserver", 100, 50);
    process(11, "java", 40, 10);
    process(12, "java", 5, 5);
    process(13, "etcd", 30, 0);
    HostCpu.Snapshot before = HostCpu.take(proc);

    machine(1500);
    process(10, "kube-apiserver", 250, 100); // +200 ticks
    process(11, "java", 100, 30); // the operator: +80
    process(12, "java", 15, 5); // the benchmark: +10
    Files.delete(proc.resolve("13/stat")); // etcd ended: not counted
    Files.delete(proc.resolve("13"));
    process(14, "my (odd) name", 3, 2); // began in between: counted from its start
    HostCpu.Snapshot after = HostCpu.take(proc);

    Map<String, Double> perJob =
        HostCpu.msPerJob(before, after, Map.of(11L, "operator", 12L, "benchmark"), 10);

    // 500 busy ticks of 10 ms over 10 jobs.
    assertThat(perJob)
        .containsEntry("machine", 500.0)
        .containsEntry("kube-apiserver", 200.0)
        .containsEntry("operator", 80.0)
        .containsEntry("benchmark", 10.0)
        .containsEntry("my (odd) name", 5.0)
        .containsEntry("others", 205.0)
        .doesNotContainKeys("etcd", "java");
    assertThat(perJob.keySet())
        .containsExactly(
            "machine", "kube-apiserver", "operator", "benchmark", "my (odd) name", "others");
  }

  @Test
  void aPidTakenByAnotherProgramIsCountedFromItsStart() throws IOException {
    machine(0);
    process(20, "old", 500, 0, 100);
    HostCpu.Snapshot before = HostCpu.take(proc);
    machine(100);
    process(20, "new", 7, 3, 900);

    assertThat(HostCpu.msPerJob(before, HostCpu.take(proc), Map.of(), 1))
        .containsEntry("new", 100.0);
  }

  @Test
  void theKernelsWorkersAreCountedUnderOneNameWhateverTheyAreDoing() throws IOException {
    machine(0);
    process(30, "kworker/u8:0-flush-254:0", 5000, 1000);
    process(31, "kworker/1:2-mm_percpu_wq", 700, 300);
    HostCpu.Snapshot before = HostCpu.take(proc);
    machine(100);
    // The same workers, named after other work now: only what they spent since counts.
    process(30, "kworker/u8:0-events_unbound", 5004, 1001);
    process(31, "kworker/1:2-events", 702, 300);

    assertThat(HostCpu.msPerJob(before, HostCpu.take(proc), Map.of(), 1))
        .containsEntry("kworker", 70.0)
        .containsEntry("others", 930.0);
  }

  @Test
  void readsThisMachinesOwnProcesses() {
    Path real = Path.of("/proc/self/stat");
    assumeTrue(Files.isReadable(real), "Linux's /proc");
    HostCpu.Snapshot before = HostCpu.take(Path.of("/proc"));
    // Spun until this thread has had 300 ms of CPU, however busy the machine is.
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    long until = threads.getCurrentThreadCpuTime() + 300_000_000L;
    long spin = 0;
    while (threads.getCurrentThreadCpuTime() < until) {
      spin += Long.numberOfTrailingZeros(spin + System.nanoTime());
    }
    HostCpu.Snapshot after = HostCpu.take(Path.of("/proc"));

    Map<String, Double> perJob =
        HostCpu.msPerJob(before, after, Map.of(ProcessHandle.current().pid(), "this test"), 1);

    // At least those 300 ms, give or take a tick; the JVM's other threads add theirs.
    assertThat(perJob.get("this test")).as("spun %d", spin).isBetween(280.0, 5000.0);
    assertThat(perJob.get("machine")).isGreaterThanOrEqualTo(perJob.get("this test") - 20);
  }

  @Test
  void splitsAJvmsCpuPerJobByWhatItsThreadsDo() throws IOException {
    // A process's task directory: one entry per thread, named as the kernel keeps JVM names.
    process(1, "vert.x-eventloo", 100, 20);
    process(2, "vert.x-eventloo", 50, 10);
    process(3, "ReconcilerExecu", 80, 0);
    process(4, "GC Thread#0", 30, 0);
    process(5, "G1 Conc#0", 40, 0);
    process(6, "VM Thread", 1, 0);
    process(7, "C2 CompilerThre", 500, 0);
    process(8, "Timer-0", 2, 0);
    HostCpu.Snapshot before = HostCpu.take(proc);
    process(1, "vert.x-eventloo", 130, 30); // +40
    process(2, "vert.x-eventloo", 60, 10); // +10
    process(3, "ReconcilerExecu", 110, 10); // +40
    process(4, "GC Thread#0", 40, 0); // +10
    process(5, "G1 Conc#0", 60, 0); // +20
    process(6, "VM Thread", 6, 0); // +5
    process(7, "C2 CompilerThre", 505, 0); // +5
    process(8, "Timer-0", 2, 0);
    process(9, "StringDedupProc", 5, 0); // began in between: +5

    assertThat(HostCpu.threadMsPerJob(before, HostCpu.take(proc), 10))
        .containsExactly(
            Map.entry("http client", 50.0),
            Map.entry("reconcile", 40.0),
            Map.entry("gc", 40.0),
            Map.entry("jit", 5.0),
            Map.entry("other", 0.0));
  }

  @Test
  void readsThisJvmsOwnThreadsUnderTheirNames() {
    assumeTrue(Files.isReadable(Path.of("/proc/self/task")), "Linux's /proc");
    Thread self = Thread.currentThread();
    String name = self.getName();
    // The JVM hands a thread's new name to the kernel when the thread renames itself.
    self.setName("ReconcilerExecutor-probe-1");
    try {
      long pid = ProcessHandle.current().pid();
      HostCpu.Snapshot before = HostCpu.threads(pid);
      var threads = java.lang.management.ManagementFactory.getThreadMXBean();
      long until = threads.getCurrentThreadCpuTime() + 300_000_000L;
      long spin = 0;
      while (threads.getCurrentThreadCpuTime() < until) {
        spin += Long.numberOfTrailingZeros(spin + System.nanoTime());
      }
      Map<String, Double> perJob = HostCpu.threadMsPerJob(before, HostCpu.threads(pid), 1);

      assertThat(perJob.get("reconcile")).as("spun %d", spin).isBetween(280.0, 1000.0);
    } finally {
      self.setName(name);
    }
  }

  private void machine(long busy) throws IOException {
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
    Files.writeString(
        proc.resolve("stat"),
        "cpu  " + (busy - 30) + " 10 20 9999 77 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n");
  }

  private void process(long pid, String name, long utime, long stime) throws IOException {
    process(pid, name, utime, stime, 100);
  }

  private void process(long pid, String name, long utime, long stime, long start)
      throws IOException {
    Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
    Files.writeString(
        dir.resolve("stat"),
        pid
            + " ("
            + name
            + ") S 1 1 1 0 -1 4194560 100 0 0 0 "
            + utime
            + " "
            + stime
            + " 0 0 20 0 12 0 "
            + start
            + " 1000 50 18446744073709551615\n");
  }
}
