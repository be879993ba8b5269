package io.gpumarket.agent;

import java.util.Map;
import java.util.logging.Logger;

/**
 * Chooses the backend once at start: CUDA when a driver and a GPU are there, the simulation
 * otherwise. {@code GPUMARKET_BACKEND=simulated} forces the simulation (tests, the sandbox), {@code
 * cuda} demands CUDA; {@code GPUMARKET_SIMULATE_GPUS} and {@code GPUMARKET_SIMULATE_PRODUCT} say
 * what to simulate, {@code GPUMARKET_SIMULATE_UTILIZATION} (0 to 1, default 0) the utilization its
 * devices report while no challenge is computed.
 */
public final class Backends {
  private static final Logger LOG = Logger.getLogger(Backends.class.getName());

  private Backends() {}

  public static GpuBackend select(Map<String, String> env, String host) {
    String mode = env.getOrDefault("GPUMARKET_BACKEND", "auto");
    if (!mode.equals("simulated")) {
      try {
        return CudaBackend.open();
      } catch (LinkageError | RuntimeException e) {
        // Without libcuda.so.1, JCuda's first call fails with UnsatisfiedLinkError and every later
        // one with NoClassDefFoundError: decide once, here.
        if (mode.equals("cuda")) {
          throw new IllegalStateException("GPUMARKET_BACKEND=cuda but CUDA is unusable: " + e, e);
        }
        LOG.info("no usable CUDA driver (" + e + "); simulating GPUs on the CPU");
      }
    }
    int count = Integer.parseInt(env.getOrDefault("GPUMARKET_SIMULATE_GPUS", "1"));
    String product = env.getOrDefault("GPUMARKET_SIMULATE_PRODUCT", "NVIDIA GeForce RTX 4090");
    double idle = Double.parseDouble(env.getOrDefault("GPUMARKET_SIMULATE_UTILIZATION", "0"));
    return new SimulatedBackend(count, product, host, idle);
  }
}
