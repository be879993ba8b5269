package io.gpumarket.proof;

import java.time.Duration;
import java.time.Instant;

/**
 * A challenge the operator issued to one GpuNode.
 *
 * @param nonce random, never reused
 * @param gpuNode the GpuNode that must answer
 * @param size n: the matrices are n by n
 * @param samples k: rows the prover reveals
 * @param issuedAt when the operator issued it
 * @param allowed how long an honest card of the declared model may take, network included
 */
public record Challenge(
    String nonce, String gpuNode, int size, int samples, Instant issuedAt, Duration allowed) {

  /** Integer multiply-adds of the whole product, counted as two operations each. */
  public double operations() {
    return 2.0 * size * size * (double) size;
  }
}
