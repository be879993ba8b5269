package io.gpumarket.proof;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;

/**
 * The matrices of a challenge: A and B, n by n, entries in [-127, 127], drawn from a generator
 * seeded by SHA-256 of the nonce, so the agent and the operator derive the same ones. Their product
 * accumulates in 32 bits exactly for n up to 133,000.
 */
public final class ChallengeMatrices {
  private final int n;
  private final byte[] a;
  private final byte[] b;

  private ChallengeMatrices(int n, byte[] a, byte[] b) {
    this.n = n;
    this.a = a;
    this.b = b;
  }

  public static ChallengeMatrices derive(String nonce, int n) {
    if (n < 1 || n > 16384) {
      throw new IllegalArgumentException("matrix size must be between 1 and 16384, not " + n);
    }
    return new ChallengeMatrices(n, fill(seed(nonce, "A"), n), fill(seed(nonce, "B"), n));
  }

  public int size() {
    return n;
  }

  /** A, row-major. */
  public byte[] a() {
    return a;
  }

  /** B, row-major. */
  public byte[] b() {
    return b;
  }

  /** Row i of A times B: what the verifier recomputes, O(n²). */
  public int[] productRow(int i) {
    int[] row = new int[n];
    int base = i * n;
    for (int k = 0; k < n; k++) {
      int aik = a[base + k];
      if (aik == 0) {
        continue;
      }
      int bk = k * n;
      for (int j = 0; j < n; j++) {
        row[j] += aik * b[bk + j];
      }
    }
    return row;
  }

  /** The whole product, row-major: what an honest prover computes, O(n³). The CPU path. */
  public int[] product() {
    int[] c = new int[n * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(productRow(i), 0, c, i * n, n);
    }
    return c;
  }

  private static long seed(String nonce, String which) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((which + ":" + nonce).getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] fill(long seed, int n) {
    SplittableRandom random = new SplittableRandom(seed);
    byte[] m = new byte[n * n];
    for (int i = 0; i < m.length; i++) {
      m[i] = (byte) (random.nextInt(255) - 127);
    }
    return m;
  }
}
