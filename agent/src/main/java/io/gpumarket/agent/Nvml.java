package io.gpumarket.agent;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The few functions of NVML (the NVIDIA Management Library, {@code libnvidia-ml.so.1}, part of the
 * driver) that the agent needs, bound with JNA. Every function returns an {@code nvmlReturn_t}: 0
 * is success, anything else an error that {@link Library#nvmlErrorString} names. Device handles
 * ({@code nvmlDevice_t}) are opaque pointers, valid until {@code nvmlShutdown}.
 */
final class Nvml {
  /** The driver's library, by its versioned name: the unversioned one is often only a stub. */
  static final String LIBRARY = "libnvidia-ml.so.1";

  static final int SUCCESS = 0;

  /** {@code NVML_DEVICE_UUID_V2_BUFFER_SIZE}: room for any UUID NVML returns, with its NUL. */
  static final int UUID_BUFFER_SIZE = 96;

  private Nvml() {}

  /** The C functions, by their exported names. */
  interface Library extends com.sun.jna.Library {
    int nvmlInit_v2();

    int nvmlShutdown();

    int nvmlDeviceGetCount_v2(IntByReference deviceCount);

    int nvmlDeviceGetHandleByIndex_v2(int index, PointerByReference device);

    int nvmlDeviceGetUUID(Pointer device, byte[] uuid, int length);

    int nvmlDeviceGetUtilizationRates(Pointer device, Utilization utilization);

    int nvmlDeviceGetMemoryInfo(Pointer device, MemoryInfo memory);

    String nvmlErrorString(int result);
  }

  /**
   * {@code nvmlUtilization_t}: two {@code unsigned int} percentages of the last sample period (1/6
   * s to 1 s, by product): of the time a kernel ran, and of the time device memory was read or
   * written.
   */
  @Structure.FieldOrder({"gpu", "memory"})
  public static final class Utilization extends Structure {
    public int gpu;
    public int memory;
  }

  /** {@code nvmlMemory_t}: three {@code unsigned long long} byte counts. */
  @Structure.FieldOrder({"total", "free", "used"})
  public static final class MemoryInfo extends Structure {
    public long total;
    public long free;
    public long used;
  }

  /**
   * Loads the library.
   *
   * @throws LinkageError (an {@link UnsatisfiedLinkError}) when it is not there, or JNA's own
   *     native part cannot load
   */
  static Library load(String library) {
    return Native.load(library, Library.class);
  }
}
