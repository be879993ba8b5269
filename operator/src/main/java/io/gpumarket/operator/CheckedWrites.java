package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;

/**
 * Status writes that carry the resourceVersion they were computed from: where several writers share
 * a status (agent, binders, reconcilers, replicas), a write from a stale copy must fail, not
 * overwrite what another wrote.
 */
final class CheckedWrites {
  private CheckedWrites() {}

  /**
   * A resourceVersion as a number, or null: opaque by the API's contract, but etcd's revision on
   * every API server this operator runs against (and on the tests' mock server).
   */
  static Long version(HasMetadata object) {
    try {
      return Long.valueOf(object.getMetadata().getResourceVersion());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * Writes the status; false when someone changed the object since it was read (409) or deleted it
   * (404).
   */
  static boolean updateStatus(KubernetesClient client, HasMetadata resource) {
    return written(client, resource) != null;
  }

  /**
   * The object as the status write left it, or null on a 409 or a 404. A 404 is a deletion that
   * raced the reconcile (a user deleting a job, a lease collected with its owner): its watch event
   * follows and ends the object's reconciles, so it is no error to log and retry with backoff.
   */
  private static <T extends HasMetadata> T written(KubernetesClient client, T resource) {
    try {
      return client.resource(resource).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409 || e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Writes a primary resource's status as {@link #updateStatus} does, and hands the written copy to
   * its controller's cache ahead of the watch: the next reconcile, often woken by a secondary's
   * event before that watch event arrives, starts from this write rather than from the copy before
   * it, which would conflict and cost a read and a second write.
   */
  static <P extends HasMetadata> boolean updatePrimaryStatus(Context<P> context, P primary) {
    P written = written(context.getClient(), primary);
    if (written == null) {
      return false;
    }
    context
        .eventSourceRetriever()
        .getControllerEventSource()
        .handleRecentResourceUpdate(ResourceID.fromResource(primary), written, primary);
    return true;
  }

  /** A reconcile of a copy of the primary resource, with this many refreshes left. */
  interface Pass<T extends HasMetadata> {
    UpdateControl<T> reconcile(T resource, int refreshes);
  }

  /**
   * After a write conflict: reconciles once more from the API server's copy if it is newer and a
   * refresh is left, else tries again after {@code retry}; stops if the object is gone. The copy is
   * read rather than awaited, since an informer that missed a watch event would hand back the same
   * stale copy and every retry would conflict again.
   */
  static <T extends HasMetadata> UpdateControl<T> afterConflict(
      KubernetesClient client, T stale, int refreshes, Pass<T> again, Duration retry) {
    if (refreshes > 0) {
      T fresh = client.resource(stale).get();
      if (fresh == null) {
        // Deleted: its watch event ends its reconciles.
        return UpdateControl.noUpdate();
      }
      if (!java.util.Objects.equals(
          fresh.getMetadata().getResourceVersion(), stale.getMetadata().getResourceVersion())) {
        return again.reconcile(fresh, refreshes - 1);
      }
    }
    return UpdateControl.<T>noUpdate().rescheduleAfter(retry);
  }
}
