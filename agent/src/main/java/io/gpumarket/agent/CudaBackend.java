package io.gpumarket.agent;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceGetUuid;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import io.gpumarket.api.v1alpha1.ObservedDevice;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.gpumarket.catalog.GpuCatalog;
import io.gpumarket.proof.ChallengeMatrices;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUuuid;
import jcuda.driver.JCudaDriver;

/**
 * The GPUs of this host through the CUDA driver API (JCuda). The challenge product runs on device 0
 * with the kernel of {@code matmul_s8.cu}, loaded as PTX. Utilization and memory used come from
 * NVML, which JCuda does not bind, when the driver's library is there.
 */
public final class CudaBackend implements GpuBackend {
  private static final int TILE = 16;
  private final CUcontext context = new CUcontext();
  private final NvmlTelemetry telemetry;

  /** The oldest CUDA driver that loads {@code matmul_s8.ptx}: its {@code .version 7.0}. */
  static final String OLDEST_DRIVER = "CUDA 11.0 (driver 450)";

  private final CUfunction kernel = new CUfunction();

  private CudaBackend() {
    JCudaDriver.setExceptionsEnabled(true);
    cuInit(0);
    CUdevice device = new CUdevice();
    cuDeviceGet(device, 0);
    cuDevicePrimaryCtxRetain(context, device);
    cuCtxSetCurrent(context);
    // Loaded at start, not at the first challenge: a driver that cannot JIT the kernel is then
    // told at once, in the agent's log, instead of failing every challenge of the node.
    CUmodule module = new CUmodule();
    try {
      cuModuleLoadData(module, ptx());
    } catch (CudaException e) {
      throw new CudaException(
          "the CUDA driver cannot load the challenge kernel (needs "
              + OLDEST_DRIVER
              + " or newer): "
              + e.getMessage());
    }
    cuModuleGetFunction(kernel, module, "matmul_s8");
    telemetry = NvmlTelemetry.open();
  }

  /**
   * Opens the CUDA driver.
   *
   * @throws LinkageError when no driver library is present (libcuda.so.1 missing)
   * @throws CudaException when the driver finds no usable GPU
   */
  public static CudaBackend open() {
    JCudaDriver.setExceptionsEnabled(true);
    cuInit(0);
    int[] count = new int[1];
    cuDeviceGetCount(count);
    if (count[0] == 0) {
      throw new CudaException("the CUDA driver found no GPU");
    }
    return new CudaBackend();
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public DeviceTelemetry telemetry() {
    return telemetry;
  }

  @Override
  public void close() {
    telemetry.close();
  }

  @Override
  public synchronized ObservedHardware discover() {
    ObservedHardware hw = new ObservedHardware();
    int[] count = new int[1];
    cuDeviceGetCount(count);
    int[] version = new int[1];
    cuDriverGetVersion(version);
    hw.cudaVersion = (version[0] / 1000) + "." + (version[0] % 1000) / 10;
    for (int i = 0; i < count[0]; i++) {
      CUdevice device = new CUdevice();
      cuDeviceGet(device, i);
      byte[] name = new byte[256];
      cuDeviceGetName(name, name.length, device);
      long[] memory = new long[1];
      cuDeviceTotalMem(memory, device);
      int[] major = new int[1];
      int[] minor = new int[1];
      cuDeviceGetAttribute(
          major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
      cuDeviceGetAttribute(
          minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
      CUuuid uuid = new CUuuid();
      cuDeviceGetUuid(uuid, device);
      ObservedDevice d = new ObservedDevice();
      d.index = i;
      d.product = cString(name);
      d.model = GpuCatalog.resolve(d.product).model().map(m -> m.key()).orElse(null);
      d.memoryMiB = memory[0] / (1024 * 1024);
      d.computeCapability = major[0] + "." + minor[0];
      d.uuid = "GPU-" + formatUuid(uuid.bytes);
      d.healthy = true;
      hw.devices.add(d);
    }
    hw.backend = name();
    return hw;
  }

  @Override
  public synchronized int[] multiply(ChallengeMatrices m) {
    cuCtxSetCurrent(context);
    int n = m.size();
    long bytes = (long) n * n;
    CUdeviceptr a = new CUdeviceptr();
    CUdeviceptr b = new CUdeviceptr();
    CUdeviceptr c = new CUdeviceptr();
    cuMemAlloc(a, bytes);
    cuMemAlloc(b, bytes);
    cuMemAlloc(c, bytes * Sizeof.INT);
    try {
      cuMemcpyHtoD(a, Pointer.to(m.a()), bytes);
      cuMemcpyHtoD(b, Pointer.to(m.b()), bytes);
      Pointer params =
          Pointer.to(Pointer.to(a), Pointer.to(b), Pointer.to(c), Pointer.to(new int[] {n}));
      int grid = (n + TILE - 1) / TILE;
      cuLaunchKernel(kernel, grid, grid, 1, TILE, TILE, 1, 0, null, params, null);
      cuCtxSynchronize();
      int[] out = new int[n * n];
      cuMemcpyDtoH(Pointer.to(out), c, bytes * Sizeof.INT);
      return out;
    } finally {
      cuMemFree(a);
      cuMemFree(b);
      cuMemFree(c);
    }
  }

  static String ptx() {
    try (InputStream in = CudaBackend.class.getResourceAsStream("matmul_s8.ptx")) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalStateException("the agent jar lacks matmul_s8.ptx", e);
    }
  }

  private static String cString(byte[] bytes) {
    int end = 0;
    while (end < bytes.length && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, 0, end, StandardCharsets.US_ASCII).trim();
  }

  private static String formatUuid(byte[] b) {
    String hex = HexFormat.of().formatHex(b);
    return hex.substring(0, 8)
        + "-"
        + hex.substring(8, 12)
        + "-"
        + hex.substring(12, 16)
        + "-"
        + hex.substring(16, 20)
        + "-"
        + hex.substring(20);
  }
}
