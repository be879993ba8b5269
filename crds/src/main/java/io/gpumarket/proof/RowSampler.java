package io.gpumarket.proof;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The rows a prover must reveal: k distinct indices drawn from SHA-256(nonce, root, counter). They
 * depend on the root, so the prover learns them only after committing to every row.
 */
public final class RowSampler {
  private RowSampler() {}

  public static List<Integer> indices(String nonce, String rootHex, int n, int k) {
    int want = Math.min(k, n);
    Set<Integer> picked = new LinkedHashSet<>();
    for (long counter = 0; picked.size() < want; counter++) {
      byte[] h =
          Merkle.sha256((nonce + ":" + rootHex + ":" + counter).getBytes(StandardCharsets.UTF_8));
      long v = ByteBuffer.wrap(h).getLong() & Long.MAX_VALUE;
      picked.add((int) (v % n));
    }
    return new ArrayList<>(picked);
  }
}
