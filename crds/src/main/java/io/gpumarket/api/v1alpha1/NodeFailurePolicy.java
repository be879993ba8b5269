package io.gpumarket.api.v1alpha1;

/** What a job does when a host it runs on stays down past the operator's toleration. */
public enum NodeFailurePolicy {
  /** Release the GPUs of the lost host's lease and lease again elsewhere. */
  Reschedule,
  /** Fail the job, saying which host was lost. */
  Fail
}
