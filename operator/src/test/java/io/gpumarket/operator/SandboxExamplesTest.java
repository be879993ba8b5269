package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.operator.sandbox.MarketBoard;
import io.gpumarket.operator.sandbox.Sandbox;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * manifests/examples/ as a newcomer applies it, in the sandbox that README's first command runs.
 */
class SandboxExamplesTest {
  static final Path EXAMPLES = Path.of("../manifests/examples");

  @Test
  void everyExampleIsValid() throws Exception {
    try (Sandbox sandbox = Sandbox.start();
        Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path file : files.sorted().toList()) {
        try (InputStream in = Files.newInputStream(file)) {
          for (HasMetadata item : sandbox.client().load(in).items()) {
            List<String> problems = List.of();
            if (item instanceof GpuNode n) {
              problems = SpecProblems.of(n.getSpec());
            } else if (item instanceof GpuOffer o) {
              problems = SpecProblems.of(o.getSpec());
            } else if (item instanceof GpuLease l) {
              problems = SpecProblems.of(l.getSpec());
            } else if (item instanceof ComputeJob j) {
              problems = SpecProblems.of(j.getSpec());
            } else {
              assertThat(item.getKind()).isEqualTo("Namespace");
            }
            assertThat(problems)
                .as("%s %s in %s", item.getKind(), item.getMetadata().getName(), file)
                .isEmpty();
          }
        }
      }
    }
  }

  @Test
  void theExamplesRunInTheSandboxAsTheReadmeSays() {
    try (Sandbox sandbox = Sandbox.start()) {
      assertThat(sandbox.apply(EXAMPLES)).isEqualTo(23);
      try (TestOperator operator = TestOperator.start(sandbox.client())) {
        Fleet fleet = new Fleet(sandbox.client());
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> {
                  assertThat(fleet.getLease("ml-team", "reserved-h100").getStatus().phase)
                      .isEqualTo(LeasePhase.Active);
                  assertThat(
                          fleet.getLease("ml-team", "reserved-h100").getStatus().offer.toString())
                      .isEqualTo("acme-gpus/h100-standard");
                  assertThat(fleet.getJob("ml-team", "pretrain").getStatus().phase)
                      .isEqualTo(JobPhase.Scheduled);
                  ComputeJob finetune = fleet.getJob("ml-team", "finetune");
                  assertThat(finetune.getStatus().phase).isEqualTo(JobPhase.Scheduled);
                  assertThat(finetune.getStatus().model)
                      .as("the cheapest acceptable model wins")
                      .isEqualTo("a100-40gb");
                  assertThat(fleet.getJob("render-team", "frames").getStatus().nodes).hasSize(3);
                  assertThat(fleet.getJob("ml-team", "bargain-hunter").getStatus().message)
                      .isEqualTo(
                          "no h100-80gb offer at or under 1.00 USD/h; cheapest is 1.95 USD/h at acme-gpus/h100-short");
                });
        sandbox.startKubelet();
        assertThat(sandbox.startAgents("gpumarket-system")).isEqualTo(8);
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  GpuNode orin = fleet.getNode("edge-orin-1");
                  assertThat(
                          Conditions.find(orin.getStatus().conditions, "Ready").get().getReason())
                      .isEqualTo("HeartbeatFresh");
                  assertThat(orin.getStatus().observed.devices)
                      .singleElement()
                      .satisfies(d -> assertThat(d.model).isEqualTo("jetson-agx-orin"));
                });
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () ->
                    assertThat(fleet.getJob("render-team", "frames").getStatus().phase)
                        .isEqualTo(JobPhase.Running));
        // Printed again until it shows them, as the sandbox prints it every few seconds: once, at
        // 2026-12-08 03:17 in a full build, the board printed just after the agents started had
        // h100-short with no GPU available, its cause not pinned down.
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  ByteArrayOutputStream board = new ByteArrayOutputStream();
                  MarketBoard.print(
                      sandbox.client(), new PrintStream(board, true, StandardCharsets.UTF_8));
                  assertThat(board.toString(StandardCharsets.UTF_8))
                      .contains("rtx-4090 edge")
                      .contains("h100-80gb          1.95 USD/h at acme-gpus/h100-short")
                      .contains("waiting ml-team/bargain-hunter");
                });
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
