package io.gpumarket.api.v1alpha1;

/** Where a ComputeJob stands. */
public enum JobPhase {
  /** Waiting for GPUs; the message says why. */
  Pending,
  /** GPUs leased and pods created, not all running yet. */
  Scheduled,
  /** Every replica runs. */
  Running,
  /** Every replica finished successfully. */
  Succeeded,
  /** Retries or the deadline ran out; the message says why. */
  Failed,
  /** Stopped by its owner. */
  Cancelled;

  public boolean isFinal() {
    return this == Succeeded || this == Failed || this == Cancelled;
  }
}
