package io.gpumarket.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Prometheus' own checker (Debian's {@code /usr/bin/promtool}), run on text or files. */
public final class Promtool {

  private static final String BINARY =
      System.getProperty("gpumarket.e2e.promtool", "/usr/bin/promtool");

  private Promtool() {}

  /**
   * Runs {@code promtool check metrics} on a Prometheus text exposition (what a {@code /metrics}
   * endpoint serves) and returns its problems: parse errors and lint findings (naming, units,
   * counters without {@code _total}, ...). Empty means promtool accepts it.
   */
  public static List<String> checkMetrics(String exposition) {
    return problems(
        Command.of(BINARY, "check", "metrics").stdin(exposition).timeout(timeout()).run());
  }

  /** Runs {@code promtool check rules} on rule files; empty means they are valid. */
  public static List<String> checkRules(Path... ruleFiles) {
    List<String> command = new ArrayList<>(List.of(BINARY, "check", "rules"));
    for (Path f : ruleFiles) {
      command.add(f.toString());
    }
    Command.Result result = Command.of(command).timeout(timeout()).run();
    return result.ok() ? List.of() : lines(result);
  }

  /** Runs {@code promtool test rules} on unit-test files; empty means every test passed. */
  public static List<String> testRules(Path... testFiles) {
    List<String> command = new ArrayList<>(List.of(BINARY, "test", "rules"));
    for (Path f : testFiles) {
      command.add(f.toString());
    }
    Command.Result result = Command.of(command).timeout(timeout()).run();
    return result.ok() ? List.of() : lines(result);
  }

  // `check metrics` prints a line per lint finding and exits non-zero for any of them; a parse
  // error is one line on stderr. Either stream's lines are problems, and so is a bare non-zero
  // exit.
  private static List<String> problems(Command.Result result) {
    List<String> problems = lines(result);
    if (!result.ok() && problems.isEmpty()) {
      problems.add("promtool exited " + result.exitCode() + " without saying why");
    }
    return problems;
  }

  private static List<String> lines(Command.Result result) {
    List<String> lines = new ArrayList<>();
    for (String text : List.of(result.stdout(), result.stderr())) {
      text.lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(lines::add);
    }
    return lines;
  }

  private static Duration timeout() {
    return Duration.ofSeconds(30);
  }
}
