package io.gpumarket.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The challenge kernel as the agent ships it. A driver refuses PTX of an ISA newer than it knows,
 * so a kernel regenerated with a new nvcc and committed as is would fail on every host with an
 * older driver, and no test here has a GPU to notice.
 */
class PtxTest {
  private static final Pattern VERSION = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)$");
  private static final Pattern TARGET = Pattern.compile("(?m)^\\.target sm_(\\d+)$");

  @Test
  void theKernelLoadsOnCuda11DriversAndMaxwellGpus() {
    String ptx = CudaBackend.ptx();
    Matcher version = VERSION.matcher(ptx);
    assertThat(version.find()).as(".version directive").isTrue();
    int isa = Integer.parseInt(version.group(1)) * 10 + Integer.parseInt(version.group(2));
    assertThat(isa).as("PTX ISA ×10; 70 is what CUDA 11.0 drivers load").isLessThanOrEqualTo(70);
    Matcher target = TARGET.matcher(ptx);
    assertThat(target.find()).as(".target directive").isTrue();
    assertThat(Integer.parseInt(target.group(1))).isLessThanOrEqualTo(52);
    assertThat(ptx).contains(".visible .entry matmul_s8(");
  }

  @Test
  void ptxasAssemblesTheKernel(@TempDir Path dir) throws IOException, InterruptedException {
    Path source = dir.resolve("matmul_s8.ptx");
    Files.writeString(source, CudaBackend.ptx());
    Process ptxas;
    try {
      ptxas =
          new ProcessBuilder(
                  "ptxas",
                  "--gpu-name",
                  "sm_75",
                  source.toString(),
                  "-o",
                  dir.resolve("k.cubin").toString())
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      Assumptions.abort("no ptxas (CUDA toolkit) on this machine");
      return;
    }
    assertThat(ptxas.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = new String(ptxas.getInputStream().readAllBytes());
    assertThat(ptxas.exitValue()).as(output).isZero();
    assertThat(dir.resolve("k.cubin")).isNotEmptyFile();
  }
}
