package io.gpumarket.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plays the kubelet for the Pods of one namespace, as the API server has none: a Pending pod starts
 * at once (phase {@code Running}, its containers running); a container whose command is {@code sh
 * -c "exit N"} exits with N after {@link #RUN_TIME}, any other runs until the pod is deleted. A pod
 * whose containers have all exited is {@code Succeeded} if they all exited 0, else {@code Failed}
 * (its restart policy is Never), with each container's exit code and reason as a kubelet writes
 * them.
 */
final class Kubelet implements AutoCloseable {

  /** How long a container that exits runs first: long enough to be seen running. */
  static final Duration RUN_TIME = Duration.ofSeconds(2);

  private static final Pattern EXIT = Pattern.compile("exit (\\d{1,3})");

  private final KubernetesClient client;
  private final String namespace;
  private final ScheduledExecutorService executor;

  private Kubelet(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "kubelet-" + namespace);
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts playing the kubelet for the namespace, every 500 ms. */
  static Kubelet start(KubernetesClient client, String namespace) {
    Kubelet kubelet = new Kubelet(client, namespace);
    kubelet.executor.scheduleWithFixedDelay(kubelet::pass, 0, 500, TimeUnit.MILLISECONDS);
    return kubelet;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  private void pass() {
    List<Pod> pods;
    try {
      pods = client.pods().inNamespace(namespace).list().getItems();
    } catch (RuntimeException e) {
      if (!executor.isShutdown()) {
        System.err.println("[kubelet] " + e);
      }
      return;
    }
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    for (Pod pod : pods) {
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      PodStatus next = next(pod, now);
      if (next == null) {
        continue;
      }
      pod.setStatus(next);
      try {
        // With the resourceVersion listed: a pod changed meanwhile is looked at again next pass.
        client.pods().inNamespace(namespace).resource(pod).updateStatus();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 && e.getCode() != 404) {
          System.err.println("[kubelet] " + pod.getMetadata().getName() + ": " + e.getMessage());
        }
      }
    }
  }

  /** The pod's next status, or null while it stays as it is. */
  static PodStatus next(Pod pod, Instant now) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (phase == null || phase.equals("Pending")) {
      List<ContainerStatus> running = new ArrayList<>();
      for (Container c : pod.getSpec().getContainers()) {
        running.add(
            new ContainerStatusBuilder()
                .withName(c.getName())
                .withImage(c.getImage())
                .withReady(true)
                .withStarted(true)
                .withRestartCount(0)
                .withNewState()
                .withNewRunning(now.toString())
                .endState()
                .build());
      }
      return new PodStatusBuilder()
          .withPhase("Running")
          .withHostIP("127.0.0.1")
          .withPodIP("127.0.0.1")
          .withStartTime(now.toString())
          .withContainerStatuses(running)
          .build();
    }
    if (!phase.equals("Running") || pod.getStatus().getStartTime() == null) {
      return null;
    }
    Instant started = Instant.parse(pod.getStatus().getStartTime());
    if (now.isBefore(started.plus(RUN_TIME))) {
      return null;
    }
    List<ContainerStatus> exited = new ArrayList<>();
    boolean failed = false;
    for (Container c : pod.getSpec().getContainers()) {
      Optional<Integer> code = exitCode(c);
      if (code.isEmpty()) {
        return null;
      }
      failed |= code.get() != 0;
      exited.add(
          new ContainerStatusBuilder()
              .withName(c.getName())
              .withImage(c.getImage())
              .withReady(false)
              .withStarted(false)
              .withRestartCount(0)
              .withNewState()
              .withNewTerminated()
              .withExitCode(code.get())
              .withReason(code.get() == 0 ? "Completed" : "Error")
              .withStartedAt(started.toString())
              .withFinishedAt(now.toString())
              .endTerminated()
              .endState()
              .build());
    }
    return new PodStatusBuilder(pod.getStatus())
        .withPhase(failed ? "Failed" : "Succeeded")
        .withContainerStatuses(exited)
        .build();
  }

  /** The code a container exits with, if its command is {@code sh -c "exit N"}. */
  static Optional<Integer> exitCode(Container c) {
    List<String> argv = new ArrayList<>();
    if (c.getCommand() != null) {
      argv.addAll(c.getCommand());
    }
    if (c.getArgs() != null) {
      argv.addAll(c.getArgs());
    }
    if (argv.size() != 3 || !argv.get(0).equals("sh") || !argv.get(1).equals("-c")) {
      return Optional.empty();
    }
    Matcher m = EXIT.matcher(argv.get(2).strip());
    return m.matches() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
  }
}
