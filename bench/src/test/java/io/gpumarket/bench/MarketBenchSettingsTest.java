package io.gpumarket.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpumarket.operator.CommandLine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MarketBenchSettingsTest {
  private static MarketBench.Settings settings(String... args) {
    return MarketBench.Settings.of(CommandLine.parse(args, MarketBench.OPTIONS));
  }

  @Test
  void sizesRunEndToEndOnlyWhereAsked() {
    MarketBench.Settings s = settings("--size", "xs,L", "--e2e-sizes", "l", "--seed", "3");

    assertThat(s.sizes()).extracting(Workload.Size::name).containsExactly("XS", "L");
    assertThat(s.sizes()).filteredOn(s::e2e).extracting(Workload.Size::name).containsExactly("L");
    assertThat(s.seed()).isEqualTo(3);
    assertThat(settings().sizes()).extracting(Workload.Size::name).containsExactly("S", "M");
    assertThat(settings("--size", "all", "--skip-e2e").sizes())
        .hasSize(3)
        .noneMatch(settings("--skip-e2e")::e2e);
  }

  @Test
  void anUnknownSizeOrSeveralSizesOnOneClusterAreRefusedBeforeAnythingRuns() {
    assertThatThrownBy(() -> settings("--size", "S,XL"))
        .isInstanceOf(CommandLine.Refused.class)
        .hasMessage("--size: unknown size XL: XS, S, M or L");
    assertThatThrownBy(() -> settings("--kubeconfig", "k", "--size", "S,M"))
        .hasMessageStartingWith("--kubeconfig runs one size end to end per API server");
    assertThat(settings("--kubeconfig", "k", "--size", "S,M", "--e2e-sizes", "M").kubeconfig())
        .isEqualTo("k");
  }

  /** README's benchmark section names its options: every one the command knows, and no other. */
  @Test
  void readmeNamesTheBenchmarksOptions() throws Exception {
    String readme = Files.readString(Path.of("../README.md"));
    int from = readme.indexOf("Options: `--size");
    String options = readme.substring(from, readme.indexOf("\n\n", from));
    Matcher m = Pattern.compile("`(--[a-z0-9-]+)").matcher(options);
    Set<String> named = new TreeSet<>();
    while (m.find()) {
      named.add(m.group(1));
    }
    List<String> known =
        new ArrayList<>(MarketBench.OPTIONS.stream().map(CommandLine.Option::name).toList());
    known.add(CommandLine.HELP.name());
    assertThat(named).containsExactlyInAnyOrderElementsOf(known);
  }
}
