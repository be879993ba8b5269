package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpumarket.operator.CommandLine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
  /** A run at one size with an end-to-end part: its figures, as written to the JSON file. */
  private static Map<String, Object> run(double jobsPerSecond, double cpuMsPerJob, String jvm) {
    Map<String, Object> e2e = new LinkedHashMap<>();
    e2e.put("run", true);
    e2e.put("operatorJvm", jvm);
    e2e.put("jobsPerSecond", jobsPerSecond);
    e2e.put("bestMinuteJobsPerSecond", 40.0);
    e2e.put("cpuMsPerJob", cpuMsPerJob);
    e2e.put("cpuMsPerJobBesidesIdle", cpuMsPerJob);
    e2e.put("fractionOfCeiling", jobsPerSecond / 40.0);
    e2e.put("ceilingJobsPerSecond", 40.0);
    Map<String, Object> sizes = new LinkedHashMap<>();
    sizes.put(
        "L", Map.of("size", Map.of("gpuNodes", 5000, "offers", 10000, "jobs", 50000), "e2e", e2e));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put(
        "machine",
        Map.of(
            "cores", 2, "maxHeapMiB", 1024, "cpu", "AMD EPYC", "java", "17", "loadAverage", "1"));
    result.put("sizes", sizes);
    result.put("loadAverageAtEnd", "2");
    result.put(
        "targets",
        java.util.List.of(
            Map.of(
                "target",
                "end to end >= 80% of the API ceiling",
                "size",
                "L",
                "met",
                jobsPerSecond / 40.0 >= 0.8,
                "value",
                String.format("%.0f%%", 100 * jobsPerSecond / 40.0))));
    return result;
  }

  /** The end-to-end figures of a run made by {@link #run}, to change. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> e2eAtL(Map<String, Object> run) {
    return (Map<String, Object>)
        ((Map<String, Object>) ((Map<String, Object>) run.get("sizes")).get("L")).get("e2e");
  }

  private static String compare(Map<String, Object> a, Map<String, Object> b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Report.compare(a, b, new PrintStream(out, true, StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String line(String report, String label) {
    return report.lines().filter(l -> l.startsWith(label)).findFirst().orElseThrow();
  }

  @Test
  void twoRunsSideBySideShowHowEachFigureMoved() {
    String jvm = "own process, -Xmx512m -XX:+UseG1GC and a description longer than a figure";
    String report = compare(run(30.0, 12.0, jvm), run(36.0, 10.2, jvm));

    assertThat(report.lines().filter(l -> l.trim().startsWith("L A")).findFirst().orElseThrow())
        .containsSubsequence("L A", "L B", "L B/A");
    assertThat(line(report, "jobs/s avg / best 60 s window"))
        .containsSubsequence("30.0 / 40.0", "36.0 / 40.0", "+20% / =");
    assertThat(line(report, "CPU ms per job"))
        .containsSubsequence("12.0 (12.0)", "10.2 (10.2)", "-15% / -15%");
    // A description is no figure: each run's on a line of its own, no change worked out of it.
    assertThat(report).contains("operator JVM\n    L A: " + jvm + "\n    L B: " + jvm + "\n");
    assertThat(line(report, "  [NOT met -> met] end to end >= 80% of the API ceiling"))
        .endsWith(": 75% -> 90%");
  }

  @Test
  void aRunWhoseCeilingLacksAKindOfWriteShowsNoCeilingAndNoChange() {
    Map<String, Object> b = run(36.0, 10.2, "jvm");
    Map<String, Object> e2e = e2eAtL(b);
    e2e.put("ceilingJobsPerSecond", Double.NaN);
    e2e.put("fractionOfCeiling", Double.NaN);
    e2e.put("ceilingUnmeasuredKinds", java.util.List.of("POST pods"));

    String row = line(compare(run(30.0, 12.0, "jvm"), b), "ceiling jobs/s, fraction reached");

    // No change worked out against a ceiling that is not there.
    assertThat(row.trim()).endsWith("40.0, 75%  none: no replay of POST pods");
  }

  @Test
  void theMachinesCpuPerJobIsSetOutProcessByProcessForTheWaveAndTheReplay() {
    Map<String, Object> b = run(36.0, 10.2, "jvm");
    Map<String, Object> e2e = e2eAtL(b);
    e2e.put(
        "hostCpuMsPerJob",
        Map.of(
            "machine",
            85.0,
            "kube-apiserver",
            49.4,
            "etcd",
            9.7,
            "kube-controller",
            6.7,
            "operator",
            14.1));
    e2e.put(
        "ceilingHostCpuMsPerJob",
        Map.of(
            "machine",
            70.0,
            "kube-apiserver",
            44.4,
            "etcd",
            11.3,
            "kube-controller",
            13.1,
            "benchmark",
            5.2));

    String report = compare(run(30.0, 12.0, "jvm"), b);

    // The client is the operator in the wave and the replaying benchmark in the replay.
    assertThat(line(report, "CPU ms per job, wave / replay")).contains("49/44, 10/11, 7/13, 14/5");
  }

  @Test
  void aSizeInOneRunOnlyIsShownWithoutAChange() {
    Map<String, Object> b = run(36.0, 10.2, "jvm");
    @SuppressWarnings("unchecked")
    Map<String, Object> sizes = (Map<String, Object>) b.get("sizes");
    sizes.put("M", Map.of("size", Map.of("gpuNodes", 1000, "offers", 2000, "jobs", 10000)));

    String header = compare(run(30.0, 12.0, "jvm"), b).lines().skip(3).findFirst().orElseThrow();

    assertThat(header.trim().split("\\s+"))
        .containsExactly("L", "A", "L", "B", "L", "B/A", "M", "B");
  }

  @Test
  void changesAreWorkedOutOnlyBetweenCellsOfTheSameFigures() {
    assertThat(Report.change("1,000 / 4.0", "1,500 / 4.0")).isEqualTo("+50% / =");
    assertThat(Report.change("young 91 (2610)", "young 80 (2000)")).isEqualTo("-12% / -23%");
    assertThat(Report.change("4338", "4336")).isEqualTo("-0.05%");
    assertThat(Report.change("0.0", "3.0")).isEqualTo("new");
    assertThat(Report.change("-", "3.0")).isEmpty();
    assertThat(Report.change("ok", "ok")).isEmpty();
    assertThat(Report.change("https://127.0.0.1:24193/", "https://127.0.0.1:27821/")).isEmpty();
  }

  @Test
  void aFileTheBenchmarkDidNotWriteIsRefusedByName(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("a.json");
    MarketBench.write(a, run(30.0, 12.0, "jvm"));
    Path other = Files.writeString(dir.resolve("other.json"), "{\"kind\": \"Pod\"}");
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    assertThatThrownBy(() -> MarketBench.compare(a, dir.resolve("missing.json"), out))
        .isInstanceOf(CommandLine.Refused.class)
        .hasMessageContaining("cannot read " + dir.resolve("missing.json"));
    assertThatThrownBy(() -> MarketBench.compare(other, a, out))
        .isInstanceOf(CommandLine.Refused.class)
        .hasMessageContaining(other + " is not a JSON file the benchmark wrote");
  }

  @Test
  void theCommandReadsTheTwoFilesTheBenchmarkWrote(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    MarketBench.write(a, run(30.0, 12.0, "jvm"));
    MarketBench.write(b, run(36.0, 10.2, "jvm"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    MarketBench.compare(a, b, new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(Files.size(a)).isPositive();
    assertThat(line(out.toString(StandardCharsets.UTF_8), "jobs/s avg / best 60 s window"))
        .endsWith("+20% / =");
  }
}
