package io.gpumarket.operator;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** Tells whether a reconcile changed a status, so that an unchanged one is not written again. */
final class StatusDiff {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private StatusDiff() {}

  static <T> T copy(T status) {
    return status == null ? null : JSON.clone(status);
  }

  static boolean changed(Object before, Object after) {
    if (before == null || after == null) {
      return before != after;
    }
    return !JSON.convertValue(before, com.fasterxml.jackson.databind.JsonNode.class)
        .equals(JSON.convertValue(after, com.fasterxml.jackson.databind.JsonNode.class));
  }
}
