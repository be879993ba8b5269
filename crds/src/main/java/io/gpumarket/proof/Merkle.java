package io.gpumarket.proof;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * A Merkle tree over the rows of a product. A leaf is SHA-256(0x00, row index, row as little-endian
 * int32); an inner node SHA-256(0x01, left, right); a level with an odd count carries its last node
 * up unchanged. The domain bytes keep a leaf from passing for an inner node.
 */
public final class Merkle {
  private final List<byte[][]> levels = new ArrayList<>();

  private Merkle(byte[][] leaves) {
    levels.add(leaves);
    byte[][] level = leaves;
    while (level.length > 1) {
      byte[][] up = new byte[(level.length + 1) / 2][];
      for (int i = 0; i < up.length; i++) {
        up[i] = 2 * i + 1 < level.length ? inner(level[2 * i], level[2 * i + 1]) : level[2 * i];
      }
      levels.add(up);
      level = up;
    }
  }

  /** Commits to the rows of an n by n row-major product. */
  public static Merkle ofRows(int[] product, int n) {
    byte[][] leaves = new byte[n][];
    for (int i = 0; i < n; i++) {
      leaves[i] = leaf(i, Arrays.copyOfRange(product, i * n, (i + 1) * n));
    }
    return new Merkle(leaves);
  }

  public byte[] root() {
    return levels.get(levels.size() - 1)[0];
  }

  public String rootHex() {
    return HexFormat.of().formatHex(root());
  }

  /** The sibling hashes from leaf i up to the root, null where a node was carried up alone. */
  public List<String> path(int i) {
    List<String> path = new ArrayList<>();
    int index = i;
    for (int l = 0; l < levels.size() - 1; l++) {
      byte[][] level = levels.get(l);
      int sibling = index ^ 1;
      path.add(sibling < level.length ? HexFormat.of().formatHex(level[sibling]) : null);
      index /= 2;
    }
    return path;
  }

  /** Whether a row at index i, with this path, hashes up to the root, for n rows in all. */
  public static boolean verify(String rootHex, int i, int[] row, List<String> path, int n) {
    byte[] node = leaf(i, row);
    int index = i;
    int width = n;
    int depth = 0;
    while (width > 1) {
      if (depth >= path.size()) {
        return false;
      }
      String sibling = path.get(depth);
      int siblingIndex = index ^ 1;
      if (siblingIndex < width) {
        if (sibling == null) {
          return false;
        }
        byte[] s = HexFormat.of().parseHex(sibling);
        node = (index & 1) == 0 ? inner(node, s) : inner(s, node);
      } else if (sibling != null) {
        return false;
      }
      index /= 2;
      width = (width + 1) / 2;
      depth++;
    }
    return depth == path.size() && HexFormat.of().formatHex(node).equals(rootHex);
  }

  static byte[] leaf(int i, int[] row) {
    ByteBuffer buf = ByteBuffer.allocate(5 + 4 * row.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.put((byte) 0).putInt(i);
    for (int v : row) {
      buf.putInt(v);
    }
    return sha256(buf.array());
  }

  static byte[] inner(byte[] left, byte[] right) {
    byte[] in = new byte[1 + left.length + right.length];
    in[0] = 1;
    System.arraycopy(left, 0, in, 1, left.length);
    System.arraycopy(right, 0, in, 1 + left.length, right.length);
    return sha256(in);
  }

  static byte[] sha256(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(in);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
