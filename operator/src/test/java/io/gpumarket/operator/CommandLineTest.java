package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CommandLineTest {
  private static final List<CommandLine.Option> OPTIONS =
      List.of(
          new CommandLine.Option("--seed", "N", "the seed"),
          new CommandLine.Option("--pace", "DURATION", "how often"),
          new CommandLine.Option("--rate", "N", "how many a minute"),
          new CommandLine.Option("--quiet", "", "say less"),
          new CommandLine.Option("--compare", "A.json B.json", "two files"));

  private static CommandLine parse(String... args) {
    return CommandLine.parse(args, OPTIONS);
  }

  @Test
  void readsTheOptionsItKnowsWithTheirValues() {
    CommandLine line = parse("--quiet", "--seed", "7", "--compare", "a.json", "b.json");

    assertThat(line.has("--quiet")).isTrue();
    assertThat(line.has("--pace")).isFalse();
    assertThat(line.number("--seed", 1, 0)).isEqualTo(7);
    assertThat(line.decimal("--rate", 12, 0)).isEqualTo(12);
    assertThat(line.duration("--pace", Duration.ofMinutes(1))).isEqualTo(Duration.ofMinutes(1));
    assertThat(line.values("--compare")).containsExactly("a.json", "b.json");
    assertThat(parse("--help").has(CommandLine.HELP.name())).isTrue();
  }

  @Test
  void refusesWhatItDoesNotKnowOrCannotReadNamingIt() {
    assertThatThrownBy(() -> parse("--seed", "7", "--bogus"))
        .isInstanceOf(CommandLine.Refused.class)
        .hasMessage("unknown option --bogus");
    assertThatThrownBy(() -> parse("7"))
        .hasMessage("unexpected argument 7 (every value follows its option)");
    assertThatThrownBy(() -> parse("--seed")).hasMessage("--seed takes N");
    assertThatThrownBy(() -> parse("--seed", "--quiet")).hasMessage("--seed takes N");
    assertThatThrownBy(() -> parse("--compare", "a.json"))
        .hasMessage("--compare takes A.json B.json");
    assertThatThrownBy(() -> parse("--quiet", "--quiet")).hasMessage("--quiet given twice");
    assertThatThrownBy(() -> parse("--seed", "x").number("--seed", 1))
        .hasMessage("--seed takes a whole number, not x");
    assertThat(parse("--seed", "-7").number("--seed", 1)).isEqualTo(-7);
    assertThatThrownBy(() -> parse("--seed", "-7").number("--seed", 1, 0))
        .hasMessage("--seed takes a whole number of at least 0, not -7");
    assertThatThrownBy(() -> parse("--rate", "-1").decimal("--rate", 12, 0))
        .hasMessage("--rate takes a number of at least 0.0, not -1");
    assertThatThrownBy(() -> parse("--pace", "5m").duration("--pace", Duration.ZERO))
        .hasMessage("--pace takes a duration above zero such as PT1M or PT30S, not 5m");
    assertThatThrownBy(() -> parse("--pace", "PT0S").duration("--pace", Duration.ZERO))
        .isInstanceOf(CommandLine.Refused.class);
  }

  @Test
  void theUsageHasALinePerOptionAndHelpLast() {
    List<String> lines = CommandLine.usage("cmd", OPTIONS).lines().toList();

    assertThat(lines.get(0)).isEqualTo("usage: cmd [options]");
    assertThat(lines).hasSize(OPTIONS.size() + 2);
    assertThat(lines.get(1)).startsWith("  --seed N ").endsWith("  the seed");
    assertThat(lines.get(5)).startsWith("  --compare A.json B.json  two files");
    assertThat(lines.get(6)).startsWith("  --help ").endsWith("print this and exit");
  }

  /** README's Quickstart names the sandbox's options: every one the command knows, and no other. */
  @Test
  void readmeNamesTheOperatorsOptions() throws Exception {
    String readme = Files.readString(Path.of("../README.md"));
    String quickstart =
        readme.substring(
            readme.indexOf("## Quickstart"), readme.indexOf("## Install on a cluster"));
    Matcher m = Pattern.compile("`(--[a-z-]+)").matcher(quickstart);
    java.util.Set<String> named = new java.util.TreeSet<>();
    while (m.find()) {
      named.add(m.group(1));
    }
    List<String> known =
        new java.util.ArrayList<>(
            GpuMarketMain.OPTIONS.stream().map(CommandLine.Option::name).toList());
    known.add(CommandLine.HELP.name());
    assertThat(named).containsExactlyInAnyOrderElementsOf(known);
  }
}
