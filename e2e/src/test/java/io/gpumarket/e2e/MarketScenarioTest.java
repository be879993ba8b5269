package io.gpumarket.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.agent.AgentMetrics;
import io.gpumarket.agent.NodeAgent;
import io.gpumarket.agent.SimulatedBackend;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.prometheus.client.exporter.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The market end to end on a real API server: the CRDs and RBAC as {@code manifests/} ships them,
 * the packaged operator under its own ServiceAccount, simulated agents under theirs, the test as
 * the kubelet, and what a user sees through kubectl and Prometheus. The scenarios run in order and
 * share one operator and one fleet.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(MarketScenarioTest.OperatorLogOnFailure.class)
class MarketScenarioTest {

  static final String SYSTEM = "gpumarket-system";
  static final String TENANT = "e2e-tenant";
  static final String PROVIDER_A = "e2e-prov-a";
  static final String PROVIDER_B = "e2e-prov-b";
  static final String JOB = "train";

  static KubeCluster cluster;
  static KubernetesClient client;
  static OperatorProcess operator;
  static final Map<String, NodeAgent> agents = new ConcurrentHashMap<>();
  static final Map<String, AgentMetrics> agentMetrics = new ConcurrentHashMap<>();
  static HTTPServer agentMetricsServer;
  static int agentMetricsPort;
  static ScheduledExecutorService kubelet;

  @BeforeAll
  static void installAndStart() throws IOException {
    cluster = KubeCluster.get();
    client = cluster.client();
    Path manifests = cluster.root().resolve("manifests");
    List<Path> crdFiles;
    try (Stream<Path> files = Files.list(manifests.resolve("crds"))) {
      crdFiles = files.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
    }
    cluster.applyFiles(crdFiles);
    List.of("gpunodes", "gpuoffers", "gpuleases", "computejobs")
        .forEach(r -> cluster.waitForCrd(r + ".gpumarket.io", Duration.ofSeconds(60)));
    cluster.applyFile(manifests.resolve("01-rbac.yaml"));
    // The agent's ServiceAccount and RBAC, not its DaemonSet (no kubelet to run it).
    // 04-agent-policy.yaml is a ValidatingAdmissionPolicy (1.30+): a 1.20 server has no such API.
    // Services are left out too: a 1.20 server refuses to server-side apply a Service port
    // without "protocol" (kubernetes/kubernetes#87852), and nothing here needs them.
    cluster.applyFile(withoutKinds(manifests.resolve("03-agent.yaml"), "DaemonSet", "Service"));

    apply(
        """
        apiVersion: v1
        kind: Namespace
        metadata: {name: %s, labels: {gpumarket.io/tenant: "true"}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: %s}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: %s}
        """
            .formatted(TENANT, PROVIDER_A, PROVIDER_B));
    for (String node : List.of("e2e-a1", "e2e-b1", "e2e-b2")) {
      client
          .nodes()
          .resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build())
          .createOr(n -> n.update());
    }
    // Provider a: one h100 host in eu-west at 3.00. Provider b: eu-west at 2.00, and us-east at
    // 1.50, cheapest but outside the job's region.
    apply(
        gpuNode("e2e-a1", "e2e-a", "eu-west")
            + gpuNode("e2e-b1", "e2e-b", "eu-west")
            + gpuNode("e2e-b2", "e2e-b", "us-east")
            + offer(PROVIDER_A, "a-h100", "e2e-a", "e2e-a1", "3.00")
            + offer(PROVIDER_B, "b-h100-eu", "e2e-b", "e2e-b1", "2.00")
            + offer(PROVIDER_B, "b-h100-us", "e2e-b", "e2e-b2", "1.50"));

    for (String node : List.of("e2e-a1", "e2e-b1", "e2e-b2")) {
      startAgent(node);
    }
    agentMetricsPort = freePort();
    agentMetricsServer =
        new HTTPServer(
            new InetSocketAddress("127.0.0.1", agentMetricsPort),
            agentMetrics.get("e2e-b2").registry(),
            true);

    kubelet = Executors.newSingleThreadScheduledExecutor();
    kubelet.scheduleWithFixedDelay(MarketScenarioTest::playKubelet, 0, 500, TimeUnit.MILLISECONDS);

    operator =
        OperatorProcess.start(
            cluster,
            cluster.serviceAccountKubeconfig(SYSTEM, "gpumarket-operator"),
            Map.of("GPUMARKET_NODE_FAILURE_TOLERATION", "PT20S"),
            "operator");
  }

  @AfterAll
  static void stop() {
    if (kubelet != null) {
      kubelet.shutdownNow();
    }
    if (operator != null) {
      operator.close();
    }
    agents.values().forEach(NodeAgent::close);
    if (agentMetricsServer != null) {
      agentMetricsServer.close();
    }
  }

  static void startAgent(String node) {
    AgentMetrics metrics = agentMetrics.computeIfAbsent(node, n -> new AgentMetrics());
    KubernetesClient agentClient =
        KubeCluster.clientFor(cluster.serviceAccountKubeconfig(SYSTEM, "gpumarket-agent"));
    NodeAgent agent =
        new NodeAgent(
            agentClient,
            new SimulatedBackend(8, "NVIDIA H100 80GB", node, 0.5),
            node,
            SYSTEM,
            metrics);
    agent.start();
    agents.put(node, agent);
  }

  /** Pods of the operator's jobs start at once and keep running. */
  static void playKubelet() {
    try {
      for (Pod pod : client.pods().inNamespace(TENANT).list().getItems()) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ((phase == null || phase.equals("Pending"))
            && pod.getMetadata().getDeletionTimestamp() == null) {
          pod.setStatus(new PodStatusBuilder().withPhase("Running").build());
          client.pods().inNamespace(TENANT).resource(pod).updateStatus();
        }
      }
    } catch (RuntimeException e) {
      System.err.println("[kubelet] " + e);
    }
  }

  @Test
  @Order(1)
  void aJobIsPlacedOnTheCheapestQualifyingOffer() {
    apply(
        """
        apiVersion: gpumarket.io/v1alpha1
        kind: ComputeJob
        metadata: {name: %s, namespace: %s}
        spec:
          gpu: {models: [h100-80gb], perReplica: 2, tier: datacenter, regions: [eu-west]}
          maxPricePerGpuHour: "5.00"
          template:
            spec:
              containers: [{name: main, image: busybox, command: [sleep, "3600"]}]
        """
            .formatted(JOB, TENANT));
    ComputeJob job = waitForJob(JOB, j -> "Running".equals(phase(j)), Duration.ofSeconds(90));

    assertThat(job.getStatus().offer.name).isEqualTo("b-h100-eu");
    assertThat(job.getStatus().pricePerGpuHour).isEqualTo("2.00");
    assertThat(job.getStatus().nodes).containsExactly("e2e-b1");
    assertThat(job.getStatus().conditions)
        .allSatisfy(
            c -> {
              assertThat(c.getReason()).isNotBlank();
              assertThat(c.getMessage()).isNotNull();
            });
    GpuLease lease =
        client.resources(GpuLease.class).inNamespace(TENANT).withName(job.getStatus().lease).get();
    assertThat(lease).isNotNull();
    assertThat(lease.getStatus().phase).isEqualTo(LeasePhase.Active);
    assertThat(lease.getStatus().pricePerGpuHour).isEqualTo("2.00");

    List<Pod> pods = jobPods();
    assertThat(pods).hasSize(1);
    assertThat(pods.get(0).getMetadata().getOwnerReferences())
        .anySatisfy(o -> assertThat(o.getName()).isEqualTo(JOB));
    assertThat(pods.get(0).getSpec().toString()).contains("e2e-b1");

    Command.Result events = cluster.kubectl("get", "events", "-n", TENANT);
    assertThat(events.exitCode()).as(events.toString()).isZero();
    assertThat(events.stdout()).contains("computejob/" + JOB);

    Command.Result quota =
        cluster.kubectl("get", "resourcequota", "gpumarket-gpus", "-n", TENANT, "-o", "yaml");
    assertThat(quota.exitCode()).as(quota.toString()).isZero();
    assertThat(quota.stdout()).contains("requests.nvidia.com/gpu: \"2\"");
  }

  @Test
  @Order(2)
  void kubectlShowsThePrinterColumnsAndExplainsTheFields() {
    Command.Result nodes = cluster.kubectl("get", "gpunodes,gpuoffers", "-A");
    assertThat(nodes.exitCode()).as(nodes.toString()).isZero();
    assertThat(nodes.stdout()).contains("e2e-b1", "b-h100-eu", "2.00");
    // Tier, model, GPUs, leased, Ready, Verified (Unknown until the first challenge is checked),
    // Uptime-24h.
    assertThat(line(nodes.stdout(), "gpunode.gpumarket.io/e2e-b1"))
        .matches(
            ".*e2e-b1\\s+datacenter\\s+h100-80gb\\s+8\\s+2\\s+True\\s+(True|Unknown)\\s+1\\s.*");
    assertThat(line(nodes.stdout(), "gpuoffer.gpumarket.io/b-h100-eu")).contains("h100-80gb");

    Command.Result jobs = cluster.kubectl("get", "computejobs", "-n", TENANT);
    assertThat(jobs.exitCode()).as(jobs.toString()).isZero();
    String header = jobs.stdout().lines().findFirst().orElse("");
    assertThat(header).startsWith("NAME").contains("PHASE");
    assertThat(line(jobs.stdout(), JOB)).contains("Running");

    Command.Result explain = cluster.kubectl("explain", "computejobs.spec.gpu");
    assertThat(explain.exitCode()).as(explain.toString()).isZero();
    assertThat(explain.stdout()).contains("perReplica", "models", "DESCRIPTION:");
  }

  @Test
  @Order(3)
  void badManifestsAreRejected() {
    Command.Result schema =
        cluster.kubectlWithInput(
            """
            apiVersion: gpumarket.io/v1alpha1
            kind: ComputeJob
            metadata: {name: bad-schema, namespace: %s}
            spec:
              gpu: {models: [h100-80gb], perReplica: 0, tier: quantum}
              template: {spec: {containers: [{name: m, image: busybox}]}}
            """
                .formatted(TENANT),
            "apply",
            "-f",
            "-");
    assertThat(schema.exitCode()).as(schema.toString()).isNotZero();
    assertThat(schema.stderr()).contains("spec.gpu.perReplica").contains("spec.gpu.tier");

    // Only a CEL rule refuses a template without containers; 1.20 ignores CEL, so the operator
    // says so in a condition instead.
    apply(
        """
        apiVersion: gpumarket.io/v1alpha1
        kind: ComputeJob
        metadata: {name: no-containers, namespace: %s}
        spec:
          gpu: {models: [h100-80gb], perReplica: 1}
          template: {spec: {containers: []}}
        """
            .formatted(TENANT));
    ComputeJob bad =
        waitForJob(
            "no-containers",
            j ->
                j.getStatus() != null
                    && j.getStatus().conditions.stream()
                        .anyMatch(c -> "InvalidSpec".equals(c.getReason())),
            Duration.ofSeconds(60));
    assertThat(bad.getStatus().message).contains("needs at least one container");
  }

  @Test
  @Order(4)
  void prometheusScrapesTheOperatorAndAnAgent() throws Exception {
    String operatorText = httpGet("http://127.0.0.1:" + operator.port() + "/metrics");
    String agentText = httpGet("http://127.0.0.1:" + agentMetricsPort + "/metrics");
    assertThat(Promtool.checkMetrics(operatorText)).isEmpty();
    assertThat(Promtool.checkMetrics(agentText)).isEmpty();

    try (PrometheusServer prometheus =
        PrometheusServer.start(
            Map.of(
                "operator", List.of("127.0.0.1:" + operator.port()),
                "agent", List.of("127.0.0.1:" + agentMetricsPort)))) {
      Duration wait = Duration.ofSeconds(60);
      assertThat(prometheus.waitFor("gpumarket_node_up{node=\"e2e-b1\"}", s -> !s.isEmpty(), wait))
          .singleElement()
          .satisfies(s -> assertThat(s.value()).isEqualTo(1.0));
      assertThat(prometheus.waitFor("gpumarket_node_uptime_ratio", s -> !s.isEmpty(), wait))
          .isNotEmpty();
      assertThat(
              prometheus.waitFor(
                  "gpumarket_jobs{namespace=\"" + TENANT + "\",phase=\"Running\"}",
                  s -> !s.isEmpty(),
                  wait))
          .singleElement()
          .satisfies(s -> assertThat(s.value()).isEqualTo(1.0));
      assertThat(
              prometheus.waitFor(
                  "gpumarket_gpus{model=\"h100-80gb\",state=\"leased\"}", s -> !s.isEmpty(), wait))
          .singleElement()
          .satisfies(s -> assertThat(s.value()).isEqualTo(2.0));
      assertThat(
              prometheus.waitFor(
                  "gpumarket_offer_price_per_gpu_hour{offer=\"b-h100-eu\"}",
                  s -> !s.isEmpty(),
                  wait))
          .singleElement()
          .satisfies(s -> assertThat(s.value()).isEqualTo(2.0));
      assertThat(prometheus.waitFor("gpumarket_utilization_ratio", s -> !s.isEmpty(), wait))
          .isNotEmpty();
      assertThat(
              prometheus.waitFor(
                  "gpumarket_agent_device_utilization_ratio{node=\"e2e-b2\"}",
                  s -> s.size() == 8,
                  wait))
          .allSatisfy(s -> assertThat(s.value()).isBetween(0.0, 1.0));
    }
  }

  @Test
  @Order(5)
  void aJobMovesWhenItsHostGoesDown() {
    ComputeJob before = client.resources(ComputeJob.class).inNamespace(TENANT).withName(JOB).get();
    String firstLease = before.getStatus().lease;
    agents.remove("e2e-b1").close();

    ComputeJob moved =
        waitForJob(
            JOB,
            j ->
                "Running".equals(phase(j))
                    && j.getStatus().nodes.contains("e2e-a1")
                    && !firstLease.equals(j.getStatus().lease),
            Duration.ofSeconds(150));

    assertThat(moved.getStatus().offer.name).isEqualTo("a-h100");
    assertThat(moved.getStatus().pricePerGpuHour).isEqualTo("3.00");
    assertThat(moved.getStatus().priorGpuSeconds).isPositive();
    assertThat(moved.getStatus().priorCost).isNotBlank();
    assertThat(jobPods()).allSatisfy(p -> assertThat(p.getSpec().toString()).contains("e2e-a1"));
    GpuLease first =
        client.resources(GpuLease.class).inNamespace(TENANT).withName(firstLease).get();
    assertThat(first.getStatus().phase).isNotEqualTo(LeasePhase.Active);
  }

  @Test
  @Order(6)
  void deletingAJobCollectsItsPodsAndReleasesItsLease() {
    ComputeJob job = client.resources(ComputeJob.class).inNamespace(TENANT).withName(JOB).get();
    String lease = job.getStatus().lease;
    assertThat(jobPods()).isNotEmpty();

    Command.Result delete = cluster.kubectl("delete", "computejob", JOB, "-n", TENANT);
    assertThat(delete.exitCode()).as(delete.toString()).isZero();

    await(() -> jobPods().isEmpty(), Duration.ofSeconds(60), "the job's pods are collected");
    await(
        () -> {
          GpuLease l = client.resources(GpuLease.class).inNamespace(TENANT).withName(lease).get();
          return l == null || (l.getStatus() != null && l.getStatus().phase != LeasePhase.Active);
        },
        Duration.ofSeconds(60),
        "the lease is released");
    GpuLease l = client.resources(GpuLease.class).inNamespace(TENANT).withName(lease).get();
    System.err.println(
        "[MarketScenarioTest] lease after delete: "
            + (l == null ? "deleted" : l.getStatus().phase + " cost " + l.getStatus().cost));
  }

  @Test
  @Order(7)
  void theOperatorWasNeverForbiddenAnything() {
    assertThat(operator.alive()).isTrue();
    assertThat(operator.forbidden()).isEmpty();
    assertThat(operator.text().lines().filter(l -> l.contains("exceeded quota")))
        .as("pods refused by the tenant's quota: it must be raised before the lease is Active")
        .isEmpty();
  }

  @Test
  @Order(8)
  void aSecondReplicaTakesOverWhenTheLeaderDies() {
    operator.close();
    Path kubeconfig = cluster.serviceAccountKubeconfig(SYSTEM, "gpumarket-operator");
    Map<String, String> env =
        Map.of(
            "GPUMARKET_NODE_FAILURE_TOLERATION", "PT20S",
            "GPUMARKET_LEADER_ELECTION_ENABLED", "true",
            "GPUMARKET_LEADER_ELECTION_NAMESPACE", SYSTEM);
    // The first replica alone takes the Lease; the second, started after, waits.
    OperatorProcess first = OperatorProcess.start(cluster, kubeconfig, env, "operator-le-1");
    OperatorProcess second = null;
    try {
      var leases = client.leases().inNamespace(SYSTEM).withName("gpumarket-operator");
      await(
          () -> leases.get() != null && leases.get().getSpec().getHolderIdentity() != null,
          Duration.ofSeconds(60),
          "the first replica holds the Lease gpumarket-operator");
      String holder = leases.get().getSpec().getHolderIdentity();
      System.err.println("[MarketScenarioTest] leader: " + holder);
      second = OperatorProcess.start(cluster, kubeconfig, env, "operator-le-2");
      sleep(3000);
      assertThat(leases.get().getSpec().getHolderIdentity()).isEqualTo(holder);
      first.kill();
      await(
          () -> !holder.equals(leases.get().getSpec().getHolderIdentity()),
          Duration.ofSeconds(90),
          "another replica takes the Lease from " + holder);
      // The new leader binds a new job (no region asked: the us-east offer, cheapest, wins).
      apply(
          """
          apiVersion: gpumarket.io/v1alpha1
          kind: ComputeJob
          metadata: {name: after-failover, namespace: %s}
          spec:
            gpu: {models: [h100-80gb], perReplica: 1}
            template:
              spec:
                containers: [{name: main, image: busybox, command: [sleep, "3600"]}]
          """
              .formatted(TENANT));
      ComputeJob job =
          waitForJob("after-failover", j -> "Running".equals(phase(j)), Duration.ofSeconds(90));
      assertThat(job.getStatus().offer.name).isEqualTo("b-h100-us");
      assertThat(second.forbidden()).isEmpty();
      assertThat(first.forbidden()).isEmpty();
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  static List<Pod> jobPods() {
    return client.pods().inNamespace(TENANT).list().getItems().stream()
        .filter(
            p ->
                p.getMetadata().getOwnerReferences().stream()
                    .anyMatch(o -> o.getName().equals(JOB)))
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  static String phase(ComputeJob job) {
    return job == null || job.getStatus() == null || job.getStatus().phase == null
        ? null
        : job.getStatus().phase.name();
  }

  static ComputeJob waitForJob(
      String name, java.util.function.Predicate<ComputeJob> until, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    ComputeJob job = null;
    while (System.nanoTime() < deadline) {
      job = client.resources(ComputeJob.class).inNamespace(TENANT).withName(name).get();
      if (job != null && until.test(job)) {
        return job;
      }
      sleep(500);
    }
    throw new AssertionError(
        "ComputeJob " + name + " not as expected after " + timeout + ": " + describe(job));
  }

  static String describe(ComputeJob job) {
    if (job == null || job.getStatus() == null) {
      return String.valueOf(job);
    }
    var s = job.getStatus();
    return "phase="
        + s.phase
        + " message="
        + s.message
        + " lease="
        + s.lease
        + " nodes="
        + s.nodes
        + " conditions="
        + s.conditions;
  }

  static void await(Supplier<Boolean> condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      sleep(500);
    }
  }

  static String line(String table, String containing) {
    return table
        .lines()
        .filter(l -> l.contains(containing))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no line with " + containing + " in\n" + table));
  }

  static void apply(String yaml) {
    cluster.kubectlWithInput(yaml, "apply", "-f", "-").orThrow();
  }

  static String gpuNode(String name, String provider, String region) {
    return """
        apiVersion: gpumarket.io/v1alpha1
        kind: GpuNode
        metadata: {name: %s}
        spec:
          provider: %s
          tier: datacenter
          nodeName: %s
          region: %s
          gpus: {model: h100-80gb, count: 8, interconnect: nvlink}
          heartbeat: {intervalSeconds: 2, graceSeconds: 6}
        ---
        """
        .formatted(name, provider, name, region);
  }

  static String offer(String ns, String name, String provider, String node, String price) {
    return """
        apiVersion: gpumarket.io/v1alpha1
        kind: GpuOffer
        metadata: {name: %s, namespace: %s}
        spec:
          provider: %s
          model: h100-80gb
          nodeNames: [%s]
          pricePerGpuHour: "%s"
          currency: USD
          tenants: {matchLabels: {gpumarket.io/tenant: "true"}}
        ---
        """
        .formatted(name, ns, provider, node, price);
  }

  static Path withoutKinds(Path file, String... kinds) throws IOException {
    List<String> kept = new ArrayList<>();
    for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
      boolean drop = false;
      for (String kind : kinds) {
        drop |= doc.lines().anyMatch(l -> l.trim().equals("kind: " + kind));
      }
      if (!drop && doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
        kept.add(doc);
      }
    }
    Path out = Files.createTempFile("manifest", ".yaml");
    Files.writeString(out, String.join("\n---\n", kept));
    return out;
  }

  static String httpGet(String url) throws Exception {
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  /** Prints the tail of the operator's log when a scenario fails. */
  static class OperatorLogOnFailure implements TestWatcher {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      if (operator != null) {
        System.err.println(
            "[MarketScenarioTest] operator log tail ("
                + operator.log()
                + "):\n"
                + operator.tail(80));
      }
    }
  }
}
