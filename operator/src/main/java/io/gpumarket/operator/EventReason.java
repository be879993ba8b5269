package io.gpumarket.operator;

/** Every reason an Event of the operator can carry; dashboards and alerts can rely on this set. */
public enum EventReason {
  InvalidSpec,
  LeaseBound,
  LeasePending,
  LeaseExpired,
  LeaseReleased,
  PodsCreated,
  PodsRefusedByQuota,
  JobRunning,
  JobSucceeded,
  JobRetrying,
  JobRescheduled,
  JobFailed,
  JobCancelled,
  DeadlineExceeded,
  NodeReady,
  NodeNotReady,
  ChallengeFailed,
  OfferNotReady
}
