package io.gpumarket.agent;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Device telemetry from NVML. {@link #open()} decides once whether NVML is there: when the library
 * does not load (no driver, or a container started without the {@code utility} driver capability)
 * or {@code nvmlInit_v2} fails, it logs why and the result is {@link #available() unavailable}, for
 * good. A failure while sampling (a device gone, say) leaves that value out of the scrape and is
 * logged once per device and error.
 */
public final class NvmlTelemetry implements DeviceTelemetry {
  private static final Logger LOG = Logger.getLogger(NvmlTelemetry.class.getName());

  private final Nvml.Library nvml;
  private final List<Device> devices;
  private final String unavailableReason;
  private final Set<String> logged = ConcurrentHashMap.newKeySet();
  private boolean closed;

  private record Device(Pointer handle, String uuid) {}

  private NvmlTelemetry(Nvml.Library nvml, List<Device> devices, String unavailableReason) {
    this.nvml = nvml;
    this.devices = devices;
    this.unavailableReason = unavailableReason;
  }

  /** Opens the driver's NVML, {@code libnvidia-ml.so.1}. Never throws. */
  public static NvmlTelemetry open() {
    return open(Nvml.LIBRARY);
  }

  /** Opens NVML from the given library name or path; tests load a stand-in this way. */
  static NvmlTelemetry open(String library) {
    Nvml.Library nvml;
    try {
      nvml = Nvml.load(library);
    } catch (LinkageError | RuntimeException e) {
      return unavailable("cannot load " + library + ": " + e.getMessage());
    }
    boolean initialized = false;
    try {
      check(nvml, nvml.nvmlInit_v2(), "nvmlInit_v2");
      initialized = true;
      IntByReference count = new IntByReference();
      check(nvml, nvml.nvmlDeviceGetCount_v2(count), "nvmlDeviceGetCount_v2");
      List<Device> devices = new ArrayList<>();
      for (int i = 0; i < count.getValue(); i++) {
        // A device this process may not see (NVML_ERROR_NO_PERMISSION) is left out, not fatal.
        PointerByReference handle = new PointerByReference();
        int rc = nvml.nvmlDeviceGetHandleByIndex_v2(i, handle);
        byte[] uuid = new byte[Nvml.UUID_BUFFER_SIZE];
        if (rc == Nvml.SUCCESS) {
          rc = nvml.nvmlDeviceGetUUID(handle.getValue(), uuid, uuid.length);
        }
        if (rc != Nvml.SUCCESS) {
          LOG.warning("NVML device " + i + " left out: " + error(nvml, rc));
          continue;
        }
        devices.add(
            new Device(handle.getValue(), Native.toString(uuid, StandardCharsets.US_ASCII)));
      }
      LOG.info("NVML reports " + devices.size() + " of " + count.getValue() + " devices");
      return new NvmlTelemetry(nvml, List.copyOf(devices), null);
    } catch (LinkageError | RuntimeException e) {
      if (initialized) {
        shutdown(nvml);
      }
      return unavailable(e.getMessage());
    }
  }

  private static NvmlTelemetry unavailable(String reason) {
    LOG.warning(
        "NVML unavailable, so no per-device utilization or memory used is exported: " + reason);
    return new NvmlTelemetry(null, List.of(), reason);
  }

  @Override
  public String source() {
    return "nvml";
  }

  @Override
  public synchronized boolean available() {
    return nvml != null && !closed;
  }

  /** Why NVML is not available, or null when it is. */
  public String unavailableReason() {
    return unavailableReason;
  }

  @Override
  public synchronized List<DeviceSample> sample() {
    if (!available()) {
      return List.of();
    }
    List<DeviceSample> out = new ArrayList<>(devices.size());
    for (Device d : devices) {
      try {
        Nvml.Utilization u = new Nvml.Utilization();
        int rc = nvml.nvmlDeviceGetUtilizationRates(d.handle(), u);
        OptionalDouble utilization =
            ok(rc, d, "utilization") ? OptionalDouble.of(u.gpu / 100.0) : OptionalDouble.empty();
        Nvml.MemoryInfo m = new Nvml.MemoryInfo();
        rc = nvml.nvmlDeviceGetMemoryInfo(d.handle(), m);
        boolean memory = ok(rc, d, "memory");
        out.add(
            new DeviceSample(
                d.uuid(),
                utilization,
                memory ? OptionalLong.of(m.used) : OptionalLong.empty(),
                memory ? OptionalLong.of(m.total) : OptionalLong.empty()));
      } catch (LinkageError | RuntimeException e) {
        once(d.uuid() + "/" + e.getClass().getName(), "NVML failed on " + d.uuid() + ": " + e);
      }
    }
    return out;
  }

  private boolean ok(int rc, Device d, String what) {
    if (rc == Nvml.SUCCESS) {
      return true;
    }
    once(
        d.uuid() + "/" + what + "/" + rc,
        "NVML gives no " + what + " of " + d.uuid() + ": " + error(nvml, rc));
    return false;
  }

  private void once(String key, String message) {
    if (logged.add(key)) {
      LOG.warning(message);
    }
  }

  @Override
  public synchronized void close() {
    if (available()) {
      closed = true;
      shutdown(nvml);
    }
  }

  private static void shutdown(Nvml.Library nvml) {
    try {
      nvml.nvmlShutdown();
    } catch (LinkageError | RuntimeException e) {
      LOG.fine("nvmlShutdown failed: " + e);
    }
  }

  private static void check(Nvml.Library nvml, int rc, String call) {
    if (rc != Nvml.SUCCESS) {
      throw new NvmlError(call + " failed: " + error(nvml, rc));
    }
  }

  private static String error(Nvml.Library nvml, int rc) {
    try {
      return nvml.nvmlErrorString(rc) + " (" + rc + ")";
    } catch (LinkageError | RuntimeException e) {
      return "error " + rc;
    }
  }

  private static final class NvmlError extends RuntimeException {
    NvmlError(String message) {
      super(message);
    }
  }
}
