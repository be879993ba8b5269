package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobStatus;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.api.v1alpha1.NodeAllocation;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a placed job's replicas: one pod per replica of the current attempt on its leased node, a
 * new attempt when a pod fails (up to {@code backoffLimit}), and the phase the pods add up to.
 */
final class JobReplicas {
  /**
   * How often a placed job is looked at without an event: a net for a missed one, since its pods',
   * lease's and nodes' watch events wake it when anything it shows changes. It was 30 s: every
   * placed job reconciled twice a minute for as long as it ran, 145 reconciles a second for the
   * 4,335 jobs of size L in the benchmark, most of the job reconciles of a wave.
   */
  static final Duration REFRESH = Duration.ofMinutes(5);

  /** How soon a failed attempt's successor is started, if no pod event comes first. */
  static final Duration NEXT_ATTEMPT = Duration.ofSeconds(2);

  /**
   * How soon pods refused by the namespace's quota are created again at first (see createMissing).
   */
  static final Duration QUOTA_RETRY = Duration.ofSeconds(1);

  /** Retries of a lasting refusal slow down to this. */
  static final Duration QUOTA_RETRY_MAX = Duration.ofMinutes(1);

  /**
   * A refusal lasting this long is not a lagging quota cache: a Warning event says so, once, naming
   * the quota.
   */
  static final Duration QUOTA_REFUSAL_LASTS = Duration.ofSeconds(30);

  private static final Pattern EXCEEDED_QUOTA = Pattern.compile("exceeded quota: ([^,\\s]+)");
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(JobReplicas.class);

  private final KubernetesClient client;
  private final OwnCreations creations;
  private final JobMemory memory;
  private final JobEnd end;
  private final EventRecorder events;

  JobReplicas(
      KubernetesClient client,
      JobMemory memory,
      JobEnd end,
      EventRecorder events,
      OwnCreations creations) {
    this.creations = creations;
    this.client = client;
    this.memory = memory;
    this.end = end;
    this.events = events;
  }

  /**
   * The latest attempt the job is known to have started: by its status, its pods, or this process,
   * whichever is ahead, so that a lagging cache never brings back an attempt already replaced.
   */
  int latestAttempt(ComputeJob job, List<Pod> pods) {
    int seen = memory.latestAttempt(job);
    for (Pod p : pods) {
      String a =
          p.getMetadata().getLabels() == null
              ? null
              : p.getMetadata().getLabels().get(Labels.ATTEMPT);
      if (a != null && a.matches("[0-9]{1,6}")) {
        seen = Math.max(seen, Integer.parseInt(a));
      }
    }
    return Math.max(job.getStatus().attempts, seen);
  }

  /** Moves the pods of a placed job on; returns when to look again, or null once it ended. */
  Duration run(ComputeJob job, GpuLease lease, List<Pod> pods, boolean onDemand, Instant now) {
    ComputeJobStatus s = job.getStatus();
    var spec = job.getSpec();
    if (s.attempts == 0) {
      s.attempts = 1;
    }
    List<Pod> current = ofAttempt(pods, s.attempts);
    Pod failed = current.stream().filter(p -> "Failed".equals(phaseOf(p))).findFirst().orElse(null);
    if (failed != null) {
      String why = "pod " + failed.getMetadata().getName() + " failed" + podReason(failed);
      if (s.attempts <= spec.backoffLimit) {
        delete(current);
        s.attempts++;
        memory.attemptStarted(job, s.attempts);
        String retrying =
            "attempt " + (s.attempts - 1) + ": " + why + "; starting attempt " + s.attempts;
        events.warning(job, EventReason.JobRetrying, retrying);
        // The next attempt's pods come in a later pass, once the API server has seen the failed
        // attempt's pods gone: until the namespace's quota stops counting them, it refuses pods
        // that need their GPUs.
        notRunning(s, "PodsStarting", retrying, now);
        return NEXT_ATTEMPT;
      } else {
        return end.stop(
            job,
            lease,
            pods,
            onDemand,
            JobPhase.Failed,
            "BackoffLimitExceeded",
            "attempt "
                + s.attempts
                + ": "
                + why
                + "; backoffLimit "
                + spec.backoffLimit
                + " reached",
            now);
      }
    }
    Creates creates = createMissing(job, lease, current);
    String refused = creates.refusedBy();
    if (refused != null) {
      notRunning(
          s,
          "PodsRefusedByQuota",
          "attempt " + s.attempts + ": " + refused + "; trying again",
          now);
      JobMemory.QuotaRefusal refusal = memory.quotaRefused(job, now);
      Duration lasted = Duration.between(refusal.since(), now);
      if (!refusal.told() && lasted.compareTo(QUOTA_REFUSAL_LASTS) >= 0) {
        memory.quotaRefusalTold(job);
        events.warning(
            job,
            EventReason.PodsRefusedByQuota,
            refused
                + ", for "
                + lasted.toSeconds()
                + " s now: a ResourceQuota of the namespace caps its GPUs below what it leased"
                + " (gpumarket keeps "
                + Labels.QUOTA_NAME
                + " at the GPUs of its active leases); trying again at most every "
                + QUOTA_RETRY_MAX.toSeconds()
                + " s");
      }
      return quotaRetry(lasted);
    }
    memory.quotaAdmitted(job);
    long succeeded = current.stream().filter(p -> "Succeeded".equals(phaseOf(p))).count();
    long running = current.stream().filter(p -> "Running".equals(phaseOf(p))).count();
    if (succeeded == spec.replicas) {
      return end.succeed(job, lease, onDemand, now);
    }
    if (current.size() == spec.replicas && running + succeeded == spec.replicas && running > 0) {
      if (s.phase != JobPhase.Running) {
        events.normal(
            job,
            EventReason.JobRunning,
            "all " + spec.replicas + " replica(s) running on " + String.join(", ", s.nodes));
      }
      s.phase = JobPhase.Running;
      s.message = running + " replica(s) running, " + succeeded + " succeeded";
      Conditions.set(
          s.conditions,
          "Running",
          true,
          "AllReplicasRunning",
          s.message,
          s.observedGeneration,
          now);
    } else {
      notRunning(
          s,
          "PodsStarting",
          "attempt "
              + s.attempts
              + ": "
              + running
              + " of "
              + spec.replicas
              + " replica(s) running, waiting for the rest to start",
          now);
    }
    return creates.contended() ? QUOTA_RETRY : REFRESH;
  }

  /**
   * What creating a job's missing pods came to.
   *
   * @param refusedBy why a ResourceQuota refused one, or null
   * @param contended whether one was turned away by a conflict that is not its name being taken:
   *     the API server's quota admission answers 409 when creates in one namespace update the
   *     quota's usage at the same moment, and that pod was not made
   */
  private record Creates(String refusedBy, boolean contended) {}

  /** A placed job whose replicas do not all run yet: Scheduled, and why not Running. */
  private static void notRunning(ComputeJobStatus s, String reason, String message, Instant now) {
    s.phase = JobPhase.Scheduled;
    s.message = message;
    Conditions.set(s.conditions, "Running", false, reason, message, s.observedGeneration, now);
  }

  /**
   * Creates the attempt's missing pods; returns why the namespace's quota refused one, or null.
   *
   * <p>The quota is raised before a lease is Active, but the API server admits pods against its own
   * cache of the quota, which can lag that write under load: a refusal then is gone in a moment,
   * and is tried again in a second rather than through the reconcile's error backoff. The message
   * names the quota but not its usage, so that retries of one refusal write the status once.
   */
  private Creates createMissing(ComputeJob job, GpuLease lease, List<Pod> current) {
    ComputeJobStatus s = job.getStatus();
    Map<String, String> kubeNode = new HashMap<>();
    for (NodeAllocation a : lease.getStatus().allocations) {
      kubeNode.put(a.gpuNode, a.nodeName);
    }
    int created = 0;
    String refused = null;
    boolean contended = false;
    for (int replica = 0; replica < job.getSpec().replicas; replica++) {
      String name = JobPods.name(job, s.attempts, replica);
      if (current.stream().anyMatch(p -> name.equals(p.getMetadata().getName()))) {
        continue;
      }
      Pod pod =
          JobPods.build(
              job, s.attempts, replica, kubeNode.get(s.nodes.get(replica)), JobLeases.name(job));
      try {
        creations.pod(
            job,
            client.pods().inNamespace(job.getMetadata().getNamespace()).resource(pod).create());
        created++;
      } catch (KubernetesClientException e) {
        String quota = refusingQuota(e);
        if (quota != null) {
          LOG.debugf("pod %s refused by quota %s: %s", name, quota, e.getMessage());
          refused = "the namespace's ResourceQuota " + quota + " refused pod " + name;
          break;
        }
        if (e.getCode() != 409) {
          throw e;
        }
        if (!alreadyExists(e)) {
          // Taken for "already exists" until 2026-12-07: the pod was never made, and the job
          // waited for its next look (then 30 s) with none; at size L a few jobs a run did.
          LOG.debugf("pod %s not created, conflict: %s", name, e.getMessage());
          contended = true;
        }
      }
    }
    if (created > 0) {
      events.normal(
          job,
          EventReason.PodsCreated,
          "attempt "
              + s.attempts
              + ": created "
              + created
              + " pod(s) on "
              + String.join(", ", s.nodes)
              + " (GpuLease "
              + s.lease
              + ", offer "
              + (s.offer == null ? "-" : s.offer.namespace + "/" + s.offer.name)
              + " at "
              + s.pricePerGpuHour
              + " "
              + s.currency
              + "/h)");
    }
    return new Creates(refused, contended);
  }

  /** Whether a 409 says the name is taken, rather than that something else changed meanwhile. */
  static boolean alreadyExists(KubernetesClientException e) {
    return e.getStatus() != null && "AlreadyExists".equals(e.getStatus().getReason());
  }

  /**
   * When to create refused pods again: within a second while the refusal is young (a lagging quota
   * cache), then less often as it lasts, so that a quota that will not admit them is not asked
   * every second for ever.
   */
  static Duration quotaRetry(Duration lasted) {
    Duration quarter = lasted.dividedBy(4);
    return quarter.compareTo(QUOTA_RETRY) < 0
        ? QUOTA_RETRY
        : quarter.compareTo(QUOTA_RETRY_MAX) > 0 ? QUOTA_RETRY_MAX : quarter;
  }

  /** The name of the ResourceQuota that refused a create, or null if none did. */
  static String refusingQuota(KubernetesClientException e) {
    String message = e.getStatus() == null ? null : e.getStatus().getMessage();
    if (e.getCode() != 403 || message == null) {
      return null;
    }
    Matcher m = EXCEEDED_QUOTA.matcher(message);
    return m.find() ? m.group(1) : null;
  }

  /** Whether every replica of the current attempt succeeded. */
  static boolean allSucceeded(ComputeJob job, List<Pod> pods) {
    List<Pod> current = ofAttempt(pods, job.getStatus().attempts);
    return current.size() == job.getSpec().replicas
        && current.stream().allMatch(p -> "Succeeded".equals(phaseOf(p)));
  }

  void delete(List<Pod> pods) {
    JobPods.delete(client, pods);
  }

  private static List<Pod> ofAttempt(List<Pod> pods, int attempt) {
    String a = Integer.toString(attempt);
    return pods.stream()
        .filter(
            p ->
                p.getMetadata().getLabels() != null
                    && a.equals(p.getMetadata().getLabels().get(Labels.ATTEMPT)))
        .toList();
  }

  static String phaseOf(Pod p) {
    return p.getStatus() == null || p.getStatus().getPhase() == null
        ? "Pending"
        : p.getStatus().getPhase();
  }

  private static String podReason(Pod p) {
    if (p.getStatus() == null) {
      return "";
    }
    String r = p.getStatus().getReason();
    String m = p.getStatus().getMessage();
    if (r != null) {
      return " (" + r + (m == null ? "" : ": " + m) + ")";
    }
    // A kubelet gives a pod a reason only when it evicts or rejects it; a container that exits
    // non-zero says why in its own state.
    var containers = p.getStatus().getContainerStatuses();
    for (var c : containers == null ? List.<ContainerStatus>of() : containers) {
      var t = c.getState() == null ? null : c.getState().getTerminated();
      if (t != null && t.getExitCode() != null && t.getExitCode() != 0) {
        return " (container "
            + c.getName()
            + " exited with code "
            + t.getExitCode()
            + (t.getReason() == null ? "" : ", " + t.getReason())
            + ")";
      }
    }
    return "";
  }
}
