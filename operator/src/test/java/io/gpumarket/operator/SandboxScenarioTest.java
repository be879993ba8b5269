package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.catalog.GpuCatalog;
import io.gpumarket.operator.sandbox.MarketBoard;
import io.gpumarket.operator.sandbox.Sandbox;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sandbox's own provider and job stream, as README's first command runs them. */
class SandboxScenarioTest {
  @Test
  void theStreamAsksForValidVariedJobsAndSomeNoOfferCanServe() throws Exception {
    try (Sandbox sandbox = Sandbox.start()) {
      sandbox.applyFleet();
      var stream = sandbox.startJobStream(Duration.ofMillis(50), 3);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  sandbox
                          .client()
                          .resources(ComputeJob.class)
                          .inAnyNamespace()
                          .list()
                          .getItems()
                          .size()
                      >= 60);
      List<ComputeJob> jobs =
          sandbox.client().resources(ComputeJob.class).inAnyNamespace().list().getItems();
      assertThat(stream.created()).isGreaterThanOrEqualTo(60);
      assertThat(jobs).allSatisfy(j -> assertThat(SpecProblems.of(j.getSpec())).isEmpty());
      assertThat(jobs.stream().map(j -> j.getSpec().gpu.models.get(0)).distinct().count())
          .as("several models asked for")
          .isGreaterThanOrEqualTo(4);
      assertThat(jobs.stream().filter(j -> j.getSpec().replicas > 1)).as("gangs").isNotEmpty();
      assertThat(jobs.stream().filter(j -> j.getSpec().gpu.minUptimeRatio != null))
          .as("uptime SLAs")
          .isNotEmpty();
      assertThat(jobs.stream().filter(j -> j.getSpec().gpu.models.contains("h200-141gb")))
          .as("jobs for a model nobody sells")
          .isNotEmpty()
          .hasSizeLessThan(jobs.size() / 5);
    }
  }

  @Test
  void theHostThatLiesAboutItsGpusIsNotVerifiedAndTheBoardSaysWhy() throws Exception {
    try (Sandbox sandbox = Sandbox.start()) {
      assertThat(sandbox.applyFleet()).isEqualTo(10);
      try (TestOperator operator = TestOperator.start(sandbox.client())) {
        sandbox.startAgents("gpumarket-system");
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () -> {
                  GpuNode liar =
                      sandbox.client().resources(GpuNode.class).withName("grid-h100-liar").get();
                  assertThat(Conditions.find(liar.getStatus().conditions, "Verified"))
                      .hasValueSatisfying(
                          c -> assertThat(c.getReason()).isEqualTo("HardwareMismatch"));
                  assertThat(liar.getStatus().allocatableGpus).isZero();
                  assertThat(liar.getStatus().observed.devices)
                      .allSatisfy(
                          d ->
                              assertThat(d.product)
                                  .isEqualTo(
                                      GpuCatalog.byKey("rtx-4090").orElseThrow().displayName()));
                });
        ByteArrayOutputStream board = new ByteArrayOutputStream();
        MarketBoard.print(sandbox.client(), new PrintStream(board, true, StandardCharsets.UTF_8));
        assertThat(board.toString(StandardCharsets.UTF_8))
            .contains("nodes not verified: grid-h100-liar (HardwareMismatch)")
            .contains("l40s               0.89 USD/h at gridcloud/l40s");
      }
    }
  }
}
