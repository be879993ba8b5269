// The compute challenge on the GPU: C = A x B for n x n int8 matrices, accumulated exactly in
// int32. One thread per element of C, tiles of 16 x 16 in shared memory. Naive on purpose: the
// challenge proves that the node computes, the timing bound allows for a plain kernel.
//
// Regenerate the PTX the agent loads (agent/src/main/resources/io/gpumarket/agent/matmul_s8.ptx):
//   nvcc -arch=compute_75 --ptx -o matmul_s8.ptx matmul_s8.cu
//   sed -i -e 's/^\.version .*/.version 7.0/' -e 's/^\.target .*/.target sm_52/' matmul_s8.ptx
// A driver loads PTX only up to the ISA version it knows, and nvcc 13 writes 9.0 (CUDA 13 drivers,
// 580 and newer); the kernel uses nothing newer than ISA 7.0 and sm_52, so the file says so and
// loads on CUDA 11.0 drivers and Maxwell GPUs onwards. PtxTest checks both and, where ptxas is
// installed, that the file still assembles.
#define TILE 16

extern "C" __global__ void matmul_s8(const signed char* a, const signed char* b, int* c, int n) {
  __shared__ int ta[TILE][TILE];
  __shared__ int tb[TILE][TILE];
  int row = blockIdx.y * TILE + threadIdx.y;
  int col = blockIdx.x * TILE + threadIdx.x;
  int sum = 0;
  for (int t = 0; t < n; t += TILE) {
    int ac = t + threadIdx.x;
    int br = t + threadIdx.y;
    ta[threadIdx.y][threadIdx.x] = (row < n && ac < n) ? a[row * n + ac] : 0;
    tb[threadIdx.y][threadIdx.x] = (br < n && col < n) ? b[br * n + col] : 0;
    __syncthreads();
    for (int k = 0; k < TILE; k++) {
      sum += ta[threadIdx.y][k] * tb[k][threadIdx.x];
    }
    __syncthreads();
  }
  if (row < n && col < n) {
    c[row * n + col] = sum;
  }
}
