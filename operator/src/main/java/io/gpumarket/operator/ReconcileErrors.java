package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;

/**
 * Puts a failed reconcile into a {@code HasErrors} condition, in one line a person can read (never
 * a stack trace), and takes it away when a reconcile succeeds again. JOSDK retries meanwhile.
 */
final class ReconcileErrors {
  static final String TYPE = "HasErrors";
  private static final int MAX = 300;
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(ReconcileErrors.class);

  private ReconcileErrors() {}

  /**
   * The error-status update of a failed reconcile. Only the error goes out, on the API server's
   * copy, written with its resourceVersion: the reconcile may have changed the status half way
   * before it failed, and none of that may be written as if it had happened; and a patch computed
   * from the cached copy, which may lag the operator's own last write, could land on the wrong
   * condition. A conflict leaves the condition unwritten: JOSDK retries the reconcile anyway.
   *
   * @param conditions the conditions of a resource's status, creating the status if absent
   */
  static <P extends HasMetadata> ErrorStatusUpdateControl<P> control(
      P resource, Context<P> context, Exception e, Function<P, List<Condition>> conditions) {
    write(context.getClient(), resource, e, conditions);
    return ErrorStatusUpdateControl.noStatusUpdate();
  }

  /** Writes the error onto the server's copy of the resource; false if it could not. */
  static <P extends HasMetadata> boolean write(
      KubernetesClient client, P resource, Exception e, Function<P, List<Condition>> conditions) {
    try {
      P failed = client.resource(resource).get();
      if (failed == null) {
        return false;
      }
      record(conditions.apply(failed), e, failed.getMetadata().getGeneration());
      return CheckedWrites.updateStatus(client, failed);
    } catch (KubernetesClientException unwritten) {
      LOG.debugf("HasErrors of %s not written: %s", resource.getMetadata().getName(), unwritten);
      return false;
    }
  }

  static void record(List<Condition> conditions, Exception e, Long generation) {
    Conditions.set(conditions, TYPE, true, reason(e), describe(e), generation, Instant.now());
  }

  static void clear(List<Condition> conditions) {
    conditions.removeIf(c -> TYPE.equals(c.getType()));
  }

  static String describe(Exception e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof KubernetesClientException k
        && k.getStatus() != null
        && k.getStatus().getMessage() != null) {
      message = "the API server answered " + k.getCode() + ": " + k.getStatus().getMessage();
    }
    message = message.lines().findFirst().orElse("").strip();
    String text = "reconcile failed, retrying: " + message;
    return text.length() <= MAX ? text : text.substring(0, MAX - 1) + "…";
  }

  private static String reason(Exception e) {
    return e instanceof KubernetesClientException ? "ApiError" : "InternalError";
  }
}
