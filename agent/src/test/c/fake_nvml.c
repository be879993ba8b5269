/*
 * A stand-in for the driver's libnvidia-ml.so.1, for NvmlTelemetryTest on machines without one.
 * It exports the functions the agent binds, with NVML's C signatures, so the test checks the JNA
 * binding itself: argument passing, struct layouts, 64-bit memory sizes, error codes. Two devices:
 * 0 answers everything, 1 has no utilization (NVML_ERROR_NOT_SUPPORTED, as some products do).
 * Built with -DFAIL_INIT, nvmlInit_v2 fails as without a loaded kernel module.
 */
#include <stdio.h>

typedef struct {
  unsigned int gpu;
  unsigned int memory;
} nvmlUtilization_t;

typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

struct device {
  unsigned int index;
};
typedef struct device *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_DRIVER_NOT_LOADED 9

static struct device devices[2] = {{0}, {1}};
static int initialized;

int nvmlInit_v2(void) {
#ifdef FAIL_INIT
  return NVML_ERROR_DRIVER_NOT_LOADED;
#else
  initialized++;
  return NVML_SUCCESS;
#endif
}

int nvmlShutdown(void) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  initialized--;
  return NVML_SUCCESS;
}

int nvmlDeviceGetCount_v2(unsigned int *count) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  *count = 2;
  return NVML_SUCCESS;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (index >= 2) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &devices[index];
  return NVML_SUCCESS;
}

int nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (length < 41) return NVML_ERROR_INSUFFICIENT_SIZE;
  snprintf(uuid, length, "GPU-%08x-1111-2222-3333-444444444444", device->index);
  return NVML_SUCCESS;
}

int nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  if (device->index == 1) return NVML_ERROR_NOT_SUPPORTED;
  utilization->gpu = 42;
  utilization->memory = 7;
  return NVML_SUCCESS;
}

int nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
  if (!initialized) return NVML_ERROR_UNINITIALIZED;
  /* Above 4 GiB, so a 32-bit mapping would show. */
  memory->total = 80ULL << 30;
  memory->used = (5ULL << 30) + device->index;
  memory->free = memory->total - memory->used;
  return NVML_SUCCESS;
}

const char *nvmlErrorString(int result) {
  switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    default: return "Unknown Error";
  }
}
