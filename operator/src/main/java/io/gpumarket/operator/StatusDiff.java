package io.gpumarket.operator;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** Tells whether a reconcile changed a status, so that an unchanged one is not written again. */
final class StatusDiff {
  // Copies as the operator's client does (LeanJson.Serialization: through the token buffer).
  private static final KubernetesSerialization JSON = LeanJson.serialization();

  private StatusDiff() {}

  /** A deep copy; taken at every reconcile. */
  static <T> T copy(T status) {
    return JSON.clone(status);
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
