package io.gpumarket.api.v1alpha1;

/** Where a lease stands. */
public enum LeasePhase {
  /** Waiting for an offer with enough free GPUs; the Bound condition says why. */
  Pending,
  /** GPUs held and billed. */
  Active,
  /** Reached its end time; GPUs returned. */
  Expired,
  /** Released early by its owner; GPUs returned. */
  Released,
  /** Can never be bound as written (a missing offer, a bad spec); the Bound condition says why. */
  Failed;

  public boolean isFinal() {
    return this == Expired || this == Released || this == Failed;
  }
}
