package io.gpumarket.operator;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** Tells whether a reconcile changed a status, so that an unchanged one is not written again. */
final class StatusDiff {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private StatusDiff() {}

  /**
   * A deep copy, through Jackson's token buffer rather than a JSON string as {@code clone} does: it
   * is taken at every reconcile, and writing and parsing the text was most of its cost.
   */
  @SuppressWarnings("unchecked")
  static <T> T copy(T status) {
    return status == null ? null : (T) JSON.convertValue(status, status.getClass());
  }

  /** The top-level status fields that differ, for debug logs. */
  static String describe(Object before, Object after) {
    var a = JSON.convertValue(before, com.fasterxml.jackson.databind.JsonNode.class);
    var b = JSON.convertValue(after, com.fasterxml.jackson.databind.JsonNode.class);
    var changed = new java.util.TreeSet<String>();
    if (b != null) {
      b.fieldNames()
          .forEachRemaining(
              f -> {
                if (a == null || !b.get(f).equals(a.get(f))) {
                  changed.add(f);
                }
              });
    }
    return changed.toString();
  }

  static boolean changed(Object before, Object after) {
    if (before == null || after == null) {
      return before != after;
    }
    return !JSON.convertValue(before, com.fasterxml.jackson.databind.JsonNode.class)
        .equals(JSON.convertValue(after, com.fasterxml.jackson.databind.JsonNode.class));
  }
}
