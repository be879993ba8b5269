package io.gpumarket.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real Kubernetes cluster of this test JVM, one for all test classes.
 *
 * <p>With the environment variable {@code GPUMARKET_E2E_KUBECONFIG} or the system property {@code
 * gpumarket.e2e.kubeconfig} set, it is the cluster that kubeconfig names, used as it is. Otherwise
 * {@code e2e/bin/kube.sh} installs what is missing, builds the API server once per machine (cached
 * outside the clone), and starts etcd, kube-apiserver v1.20.2 and kube-controller-manager on free
 * ports of 127.0.0.1, with their state and logs in {@code e2e/target/kube-cluster}; they are
 * stopped when the JVM exits (and by a watchdog if the JVM is killed).
 *
 * <p>Being 1.20, the local server has no CEL validation; it has no scheduler and no kubelet, so
 * pods stay Pending unless a test plays the kubelet.
 */
public final class KubeCluster {

  /** The field manager of everything this class applies. */
  public static final String FIELD_MANAGER = "gpumarket-e2e";

  private static KubeCluster instance;
  private static RuntimeException failure;

  private final Path root;
  private final Path kubeconfig;
  private final Path clusterDir;
  private final KubernetesClient client;

  private KubeCluster(Path root, Path kubeconfig, Path clusterDir) {
    this.root = root;
    this.kubeconfig = kubeconfig;
    this.clusterDir = clusterDir;
    this.client = clientFor(kubeconfig);
  }

  /** The cluster, started on first use. */
  public static synchronized KubeCluster get() {
    // A cluster that failed to start is not tried again by every test class: the first failure
    // (a 20-minute build, say) is the answer for the rest of the JVM.
    if (failure != null) {
      throw new IllegalStateException("the cluster failed to start earlier", failure);
    }
    if (instance == null) {
      try {
        instance = start();
      } catch (RuntimeException e) {
        failure = e;
        throw e;
      }
    }
    return instance;
  }

  private static KubeCluster start() {
    Path root = repositoryRoot();
    String given = System.getProperty("gpumarket.e2e.kubeconfig");
    if (given == null || given.isBlank()) {
      given = System.getenv("GPUMARKET_E2E_KUBECONFIG");
    }
    if (given != null && !given.isBlank()) {
      log("using the cluster of " + given);
      return new KubeCluster(root, Path.of(given).toAbsolutePath(), null);
    }
    Path dir =
        Path.of(
                System.getProperty(
                    "gpumarket.e2e.clusterDir", root.resolve("e2e/target/kube-cluster").toString()))
            .toAbsolutePath()
            .normalize();
    long started = System.nanoTime();
    kubeSh(root, Duration.ofMinutes(10), "packages");
    // The first build on a machine takes 10 to 20 minutes; after that it is a --version check.
    kubeSh(root, Duration.ofMinutes(60), "build");
    long built = System.nanoTime();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    kubeSh(root, Duration.ofMinutes(1), "down", dir.toString());
                  } catch (RuntimeException e) {
                    log("stopping the cluster failed: " + e.getMessage());
                  }
                },
                "kube-cluster-down"));
    Command.Result up = kubeSh(root, Duration.ofMinutes(3), "up", dir.toString());
    Path kubeconfig = Path.of(up.stdout().strip());
    log(
        String.format(
            "cluster up in %.1f s (packages and build check %.1f s); kubeconfig %s",
            (System.nanoTime() - built) / 1e9, (built - started) / 1e9, kubeconfig));
    return new KubeCluster(root, kubeconfig, dir);
  }

  private static Command.Result kubeSh(Path root, Duration timeout, String... args) {
    List<String> command =
        Command.concat(List.of(root.resolve("e2e/bin/kube.sh").toString()), args);
    return Command.of(command)
        .environment(
            Map.of("GPUMARKET_KUBE_OWNER_PID", Long.toString(ProcessHandle.current().pid())))
        .timeout(timeout)
        .echoStderr(line -> System.err.println("[kube.sh] " + line))
        .run()
        .orThrow();
  }

  /** The repository's root: where {@code e2e/bin/kube.sh} is. */
  private static Path repositoryRoot() {
    String configured = System.getProperty("gpumarket.e2e.root");
    Path start =
        Path.of(configured != null ? configured : System.getProperty("user.dir"))
            .toAbsolutePath()
            .normalize();
    for (Path p = start; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("e2e/bin/kube.sh"))) {
        return p;
      }
    }
    throw new IllegalStateException("no e2e/bin/kube.sh in " + start + " or above");
  }

  private static void log(String message) {
    System.err.println("[KubeCluster] " + message);
  }

  /** A client with the admin's rights. Do not close it; it lives as long as the JVM. */
  public KubernetesClient client() {
    return client;
  }

  /** The admin kubeconfig. */
  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The repository's root, to find {@code manifests/} and the like. */
  public Path root() {
    return root;
  }

  /**
   * Where the local cluster keeps its state and logs ({@code etcd.log}, {@code kube-apiserver.log},
   * {@code kube-controller-manager.log}); null when the cluster is one a kubeconfig named.
   */
  public Path clusterDir() {
    return clusterDir;
  }

  /** Whether this JVM started the cluster (and so may assume a fresh v1.20 server). */
  public boolean isLocal() {
    return clusterDir != null;
  }

  /** A new client for a kubeconfig (close it when done). */
  public static KubernetesClient clientFor(Path kubeconfig) {
    try {
      Config config =
          Config.fromKubeconfig(null, Files.readString(kubeconfig), kubeconfig.toString());
      return new KubernetesClientBuilder().withConfig(config).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs {@code kubectl} with the admin kubeconfig. */
  public Command.Result kubectl(String... args) {
    return kubectlAs(kubeconfig, null, args);
  }

  /** Runs {@code kubectl} with the admin kubeconfig and the given standard input. */
  public Command.Result kubectlWithInput(String stdin, String... args) {
    return kubectlAs(kubeconfig, stdin, args);
  }

  /**
   * Runs {@code kubectl} as whoever the kubeconfig names (see {@link #serviceAccountKubeconfig}).
   */
  public Command.Result kubectlAs(Path kubeconfig, String stdin, String... args) {
    List<String> command =
        new ArrayList<>(List.of("kubectl", "--kubeconfig", kubeconfig.toString()));
    if (clusterDir != null) {
      // The local cluster's port changes every run; keep kubectl's discovery cache out of ~/.kube.
      command.add("--cache-dir=" + clusterDir.resolve("kubectl-cache"));
    }
    command.addAll(List.of(args));
    return Command.of(command).stdin(stdin).timeout(Duration.ofMinutes(2)).run();
  }

  /**
   * A kubeconfig file that authenticates as the ServiceAccount: same server and CA as the admin
   * one, the ServiceAccount's token. Creates a token Secret for it ({@code <name>-e2e-token}) and
   * waits for the token controller to fill it, which works on 1.20 and on clusters that no longer
   * make token Secrets by themselves (1.24+). The ServiceAccount must exist.
   */
  public Path serviceAccountKubeconfig(String namespace, String name) {
    String secretName = name + "-e2e-token";
    try {
      client
          .secrets()
          .inNamespace(namespace)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName(secretName)
                  .withNamespace(namespace)
                  .addToAnnotations("kubernetes.io/service-account.name", name)
                  .endMetadata()
                  .withType("kubernetes.io/service-account-token")
                  .build())
          .create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // Made by an earlier call: its token is as good.
    }
    Secret secret =
        client
            .secrets()
            .inNamespace(namespace)
            .withName(secretName)
            .waitUntilCondition(
                s -> s != null && s.getData() != null && s.getData().containsKey("token"),
                3,
                TimeUnit.MINUTES);
    String token =
        new String(
            Base64.getDecoder().decode(secret.getData().get("token")), StandardCharsets.UTF_8);
    Path file = kubeconfig.resolveSibling("sa-" + namespace + "-" + name + ".kubeconfig");
    writeKubeconfig(file, "system:serviceaccount:" + namespace + ":" + name, token);
    return file;
  }

  private void writeKubeconfig(Path file, String user, String token) {
    Config config = client.getConfiguration();
    String tls;
    try {
      if (config.getCaCertData() != null && !config.getCaCertData().isBlank()) {
        tls = "certificate-authority-data: " + config.getCaCertData().strip();
      } else if (config.getCaCertFile() != null) {
        tls =
            "certificate-authority-data: "
                + Base64.getEncoder()
                    .encodeToString(Files.readAllBytes(Path.of(config.getCaCertFile())));
      } else {
        tls = "insecure-skip-tls-verify: " + config.isTrustCerts();
      }
      String yaml =
          String.join(
              "\n",
              "apiVersion: v1",
              "kind: Config",
              "clusters:",
              "- name: e2e",
              "  cluster:",
              "    server: " + config.getMasterUrl().replaceAll("/+$", ""),
              "    " + tls,
              "users:",
              "- name: \"" + user + "\"",
              "  user:",
              "    token: " + token,
              "contexts:",
              "- name: e2e",
              "  context:",
              "    cluster: e2e",
              "    user: \"" + user + "\"",
              "current-context: e2e",
              "");
      Files.writeString(file, yaml);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Applies every document of a (multi-document) YAML file: server-side apply with this class's
   * field manager, forcing conflicts, for everything but CustomResourceDefinitions. Those are
   * created or replaced instead, because a 1.20 server refuses to apply fields it does not know
   * (such as {@code x-kubernetes-validations}) where create and update drop them silently. Returns
   * the objects as the server stored them.
   */
  public List<HasMetadata> applyFile(Path file) {
    List<HasMetadata> items;
    try (InputStream in = Files.newInputStream(file)) {
      items = client.load(in).items();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<HasMetadata> applied = new ArrayList<>();
    for (HasMetadata item : items) {
      if (item instanceof CustomResourceDefinition crd) {
        applied.add(client.resource(crd).createOr(existing -> existing.update()));
      } else {
        applied.add(
            client.resource(item).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply());
      }
    }
    return applied;
  }

  /** Applies each file in turn, in the order given. */
  public List<HasMetadata> applyFiles(List<Path> files) {
    List<HasMetadata> applied = new ArrayList<>();
    files.forEach(f -> applied.addAll(applyFile(f)));
    return applied;
  }

  /**
   * Waits until the CustomResourceDefinition is {@code Established} (its resources can be used) and
   * its served versions are in the server's OpenAPI document, which the server publishes a few
   * seconds later and {@code kubectl explain} and kubectl's validation read.
   */
  public CustomResourceDefinition waitForCrd(String name, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    CustomResourceDefinition crd =
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .withName(name)
            .waitUntilCondition(
                c ->
                    c != null
                        && c.getStatus() != null
                        // The server writes the status before its first condition.
                        && c.getStatus().getConditions() != null
                        && c.getStatus().getConditions().stream()
                            .anyMatch(
                                cond ->
                                    "Established".equals(cond.getType())
                                        && "True".equals(cond.getStatus())),
                timeout.toMillis(),
                TimeUnit.MILLISECONDS);
    // OpenAPI v2 names a custom kind by its reversed group: gpumarket.io/v1alpha1 GpuNode is
    // io.gpumarket.v1alpha1.GpuNode.
    List<String> group = new ArrayList<>(List.of(crd.getSpec().getGroup().split("\\.")));
    Collections.reverse(group);
    List<String> definitions =
        crd.getSpec().getVersions().stream()
            .filter(v -> Boolean.TRUE.equals(v.getServed()))
            .map(
                v ->
                    "\""
                        + String.join(".", group)
                        + "."
                        + v.getName()
                        + "."
                        + crd.getSpec().getNames().getKind()
                        + "\"")
            .toList();
    while (true) {
      String openApi = client.raw("/openapi/v2");
      if (openApi != null && definitions.stream().allMatch(openApi::contains)) {
        return crd;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name + " is not in the OpenAPI document after " + timeout.toSeconds() + " s");
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
