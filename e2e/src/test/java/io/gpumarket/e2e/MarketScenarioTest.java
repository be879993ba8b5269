package io.gpumarket.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpumarket.agent.AgentMetrics;
import io.gpumarket.agent.NodeAgent;
import io.gpumarket.agent.SimulatedBackend;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.Tier;
import io.prometheus.client.exporter.HTTPServer;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
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

  /** Where the agents renew their heartbeat Leases, as manifests/ ship it. */
  static final String HEARTBEATS = "gpumarket-node-lease";

  static final String TENANT = "e2e-tenant";
  static final String PROVIDER_A = "e2e-prov-a";
  static final String PROVIDER_B = "e2e-prov-b";
  static final String JOB = "train";
  static final String DONE = "done";
  static final String CRASH = "crash";

  /**
   * How long the operator may take to act. Generous: CI is one shot on a slow, shared machine, and
   * a passing run never waits that long.
   */
  static final Duration OPERATOR_WAIT = Duration.ofMinutes(3);

  static KubeCluster cluster;
  static KubernetesClient client;
  static OperatorProcess operator;
  static final Map<String, NodeAgent> agents = new ConcurrentHashMap<>();
  static final Map<String, AgentMetrics> agentMetrics = new ConcurrentHashMap<>();
  static HTTPServer agentMetricsServer;
  static int agentMetricsPort;
  static Kubelet kubelet;

  /** What the succeeded job was billed when it ended, to compare minutes later. */
  static String doneCost;

  static Long doneGpuSeconds;

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
        .forEach(r -> cluster.waitForCrd(r + ".gpumarket.io", Duration.ofMinutes(2)));
    cluster.applyFile(manifests.resolve("01-rbac.yaml"));
    // The agent's ServiceAccount, RBAC and Service, not its DaemonSet (no kubelet to run it).
    // 04-agent-policy.yaml is a ValidatingAdmissionPolicy (1.30+): a 1.20 server has no such API.
    cluster.applyFile(withoutKinds(manifests.resolve("03-agent.yaml"), "DaemonSet"));

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
    // Port 0: the server binds a free port itself, so no other process can take it meanwhile.
    agentMetricsServer =
        new HTTPServer.Builder()
            .withHostname("127.0.0.1")
            .withPort(0)
            .withRegistry(agentMetrics.get("e2e-b2").registry())
            .withDaemonThreads(true)
            .build();
    agentMetricsPort = agentMetricsServer.getPort();

    kubelet = Kubelet.start(client, TENANT);

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
      kubelet.close();
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
            HEARTBEATS,
            metrics);
    agent.start();
    agents.put(node, agent);
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
    ComputeJob job = waitForJob(JOB, j -> "Running".equals(phase(j)), OPERATOR_WAIT);

    assertThat(job.getStatus().offer.name).isEqualTo("b-h100-eu");
    assertThat(job.getStatus().pricePerGpuHour).isEqualTo("2.00");
    assertThat(job.getStatus().nodes).containsExactly("e2e-b1");
    assertThat(job.getStatus().conditions)
        .allSatisfy(
            c -> {
              assertThat(c.getReason()).isNotBlank();
              assertThat(c.getMessage()).isNotNull();
            });
    GpuLease lease = lease(job.getStatus().lease);
    assertThat(lease).isNotNull();
    assertThat(lease.getStatus().phase).isEqualTo(LeasePhase.Active);
    assertThat(lease.getStatus().pricePerGpuHour).isEqualTo("2.00");

    List<Pod> pods = pods(JOB);
    assertThat(pods).hasSize(1);
    assertThat(pods.get(0).getMetadata().getOwnerReferences())
        .anySatisfy(o -> assertThat(o.getName()).isEqualTo(JOB));
    assertThat(pods.get(0).getSpec().toString()).contains("e2e-b1");

    Command.Result events = cluster.kubectl("get", "events", "-n", TENANT);
    assertThat(events.exitCode()).as(events.toString()).isZero();
    assertThat(events.stdout()).contains("computejob/" + JOB);

    assertThat(quotaGpus()).isEqualTo("2");
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
            OPERATOR_WAIT);
    assertThat(bad.getStatus().message).contains("needs at least one container");
  }

  @Test
  @Order(4)
  void aJobWhosePodsSucceedEndsSucceededAndGivesItsGpusBack() {
    // No region asked: the us-east offer, cheapest, wins. Its container exits 0 (see Kubelet).
    apply(job(DONE, 2, "", "[sh, -c, \"exit 0\"]"));
    ComputeJob done = waitForJob(DONE, j -> "Succeeded".equals(phase(j)), OPERATOR_WAIT);

    assertThat(done.getStatus().offer.name).isEqualTo("b-h100-us");
    assertThat(done.getStatus().completionTime).isNotBlank();
    assertThat(condition(done, "Complete"))
        .satisfies(c -> assertThat(c.getStatus()).isEqualTo("True"))
        .satisfies(c -> assertThat(c.getReason()).isEqualTo("Succeeded"));
    assertThat(condition(done, "Running").getStatus()).isEqualTo("False");
    // The pod is kept, as a kubelet would leave it: kubectl shows it Completed.
    assertThat(pods(DONE))
        .singleElement()
        .satisfies(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Succeeded"));

    // The lease ends when the job does, billed from its start to its end at the locked price.
    String leaseName = done.getStatus().lease;
    GpuLease lease =
        awaitValue(
            () -> lease(leaseName),
            l -> l.getStatus() != null && l.getStatus().phase == LeasePhase.Released,
            "the lease of a succeeded job is Released");
    var ls = lease.getStatus();
    long seconds =
        Duration.between(Instant.parse(ls.startTime), Instant.parse(ls.endTime)).getSeconds();
    assertThat(ls.gpuSeconds).isPositive().isEqualTo(2 * seconds);
    assertThat(new BigDecimal(ls.cost)).isEqualByComparingTo(cost(ls.gpuSeconds, "1.50"));
    // The job shows what its lease billed.
    done =
        waitForJob(
            DONE,
            j ->
                ls.cost.equals(j.getStatus().cost)
                    && ls.gpuSeconds.equals(j.getStatus().gpuSeconds),
            OPERATOR_WAIT);
    doneCost = done.getStatus().cost;
    doneGpuSeconds = done.getStatus().gpuSeconds;

    // Its GPUs are back on the market: the host's ledger no longer holds them, the offer sells
    // all 8 again, and the tenant's quota is down to the running job's 2.
    await(
        () -> {
          GpuNode node = client.resources(GpuNode.class).withName("e2e-b2").get();
          return node.getStatus().allocations.stream()
                  .noneMatch(a -> leaseName.equals(a.lease.name))
              && Integer.valueOf(0).equals(node.getStatus().leasedGpus);
        },
        OPERATOR_WAIT,
        "e2e-b2's ledger is freed");
    await(
        () -> {
          GpuOffer offer =
              client.resources(GpuOffer.class).inNamespace(PROVIDER_B).withName("b-h100-us").get();
          return Integer.valueOf(8).equals(offer.getStatus().availableGpus);
        },
        OPERATOR_WAIT,
        "b-h100-us offers 8 GPUs again");
    await(() -> "2".equals(quotaGpus()), OPERATOR_WAIT, "the tenant's GPU quota is back to 2");
  }

  @Test
  @Order(5)
  void aJobWhosePodFailsIsRetriedThenFailsWithTheReason() {
    apply(job(CRASH, 1, "backoffLimit: 1", "[sh, -c, \"exit 3\"]"));
    ComputeJob crash = waitForJob(CRASH, j -> "Failed".equals(phase(j)), OPERATOR_WAIT);

    // backoffLimit 1: the first attempt failed and was retried once.
    assertThat(crash.getStatus().attempts).isEqualTo(2);
    assertThat(condition(crash, "Failed"))
        .satisfies(c -> assertThat(c.getStatus()).isEqualTo("True"))
        .satisfies(c -> assertThat(c.getReason()).isEqualTo("BackoffLimitExceeded"))
        .satisfies(
            c ->
                assertThat(c.getMessage())
                    .contains(CRASH + "-a2-r0", "exited with code 3", "backoffLimit 1"));
    assertThat(condition(crash, "Running").getStatus()).isEqualTo("False");
    assertThat(crash.getStatus().message).isEqualTo(condition(crash, "Failed").getMessage());

    Command.Result events =
        cluster.kubectl(
            "get", "events", "-n", TENANT, "--field-selector", "involvedObject.name=" + CRASH);
    assertThat(events.exitCode()).as(events.toString()).isZero();
    assertThat(events.stdout()).contains("JobRetrying", "JobFailed");

    // The retried attempt's pod was deleted; the last one is kept to be inspected.
    await(
        () ->
            pods(CRASH).stream()
                .map(p -> p.getMetadata().getName() + "=" + p.getStatus().getPhase())
                .toList()
                .equals(List.of(CRASH + "-a2-r0=Failed")),
        OPERATOR_WAIT,
        "only the last attempt's pod is left, Failed");
    String leaseName = crash.getStatus().lease;
    await(
        () -> {
          GpuLease l = lease(leaseName);
          return l.getStatus() != null && l.getStatus().phase == LeasePhase.Released;
        },
        OPERATOR_WAIT,
        "the failed job's lease is Released");
    await(
        () ->
            Integer.valueOf(0)
                .equals(
                    client
                        .resources(GpuNode.class)
                        .withName("e2e-b2")
                        .get()
                        .getStatus()
                        .leasedGpus),
        OPERATOR_WAIT,
        "e2e-b2's ledger is freed");
  }

  @Test
  @Order(6)
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
      expect(prometheus, "gpumarket_node_up{node=\"e2e-b1\"}", () -> 1.0);
      // e2e-b2's agent ran all along: up the whole hour, as its status says.
      expect(prometheus, "gpumarket_node_uptime_ratio{node=\"e2e-b2\",window=\"1h\"}", () -> 1.0);
      expect(
          prometheus,
          "gpumarket_node_uptime_ratio{node=\"e2e-b2\",window=\"1h\"}",
          () ->
              client.resources(GpuNode.class).withName("e2e-b2").get().getStatus().uptime.ratio1h);
      for (var phase :
          Map.of("Pending", 1.0, "Running", 1.0, "Succeeded", 1.0, "Failed", 1.0).entrySet()) {
        expect(
            prometheus,
            "gpumarket_jobs{namespace=\"" + TENANT + "\",phase=\"" + phase.getKey() + "\"}",
            phase::getValue);
      }
      expect(prometheus, "gpumarket_gpus{model=\"h100-80gb\",state=\"leased\"}", () -> 2.0);
      expect(prometheus, "gpumarket_offer_price_per_gpu_hour{offer=\"b-h100-eu\"}", () -> 2.0);
      // Leased over healthy GPUs of the model and tier, from what the GpuNodes' statuses say.
      expect(
          prometheus,
          "gpumarket_utilization_ratio{model=\"h100-80gb\",tier=\"datacenter\"}",
          MarketScenarioTest::h100Utilization);
      // Every GPU-second and cent the tenant's leases billed, as their statuses say; read again on
      // each try, as the running job's lease accrues every minute.
      expect(
          prometheus,
          "gpumarket_lease_gpu_seconds_total{namespace=\"" + TENANT + "\",model=\"h100-80gb\"}",
          () -> tenantLeases().stream().mapToDouble(l -> l.getStatus().gpuSeconds).sum());
      expect(
          prometheus,
          "gpumarket_lease_cost_total{namespace=\"" + TENANT + "\",currency=\"USD\"}",
          () ->
              tenantLeases().stream()
                  .map(l -> new BigDecimal(l.getStatus().cost))
                  .reduce(BigDecimal.ZERO, BigDecimal::add)
                  .doubleValue());
      assertThat(
              prometheus.waitFor(
                  "gpumarket_agent_device_utilization_ratio{node=\"e2e-b2\"}",
                  s -> s.size() == 8,
                  OPERATOR_WAIT))
          .allSatisfy(s -> assertThat(s.value()).isBetween(0.0, 1.0));
    }
  }

  @Test
  @Order(7)
  void aJobMovesWhenItsHostGoesDown() {
    ComputeJob before = client.resources(ComputeJob.class).inNamespace(TENANT).withName(JOB).get();
    String firstLease = before.getStatus().lease;
    agents.remove("e2e-b1").close();

    // Down after the heartbeat grace (6 s), moved after the toleration (20 s).
    ComputeJob moved =
        waitForJob(
            JOB,
            j ->
                "Running".equals(phase(j))
                    && j.getStatus().nodes.contains("e2e-a1")
                    && !firstLease.equals(j.getStatus().lease),
            OPERATOR_WAIT.plusMinutes(1));

    assertThat(moved.getStatus().offer.name).isEqualTo("a-h100");
    assertThat(moved.getStatus().pricePerGpuHour).isEqualTo("3.00");
    assertThat(moved.getStatus().priorGpuSeconds).isPositive();
    assertThat(moved.getStatus().priorCost).isNotBlank();
    assertThat(pods(JOB)).allSatisfy(p -> assertThat(p.getSpec().toString()).contains("e2e-a1"));
    await(
        () -> {
          GpuLease first = lease(firstLease);
          return first.getStatus() != null && first.getStatus().phase != LeasePhase.Active;
        },
        OPERATOR_WAIT,
        "the first lease is no longer Active");
  }

  @Test
  @Order(8)
  void deletingAJobCollectsItsPodsAndReleasesItsLease() {
    ComputeJob job = client.resources(ComputeJob.class).inNamespace(TENANT).withName(JOB).get();
    String lease = job.getStatus().lease;
    assertThat(pods(JOB)).isNotEmpty();

    // Not waiting in kubectl (its own timeout would be ours): the job is awaited below.
    Command.Result delete =
        cluster.kubectl("delete", "computejob", JOB, "-n", TENANT, "--wait=false");
    assertThat(delete.exitCode()).as(delete.toString()).isZero();

    await(
        () -> client.resources(ComputeJob.class).inNamespace(TENANT).withName(JOB).get() == null,
        OPERATOR_WAIT,
        "the job is gone (its finalizer removed)");
    await(() -> pods(JOB).isEmpty(), OPERATOR_WAIT, "the job's pods are collected");
    await(
        () -> {
          GpuLease l = lease(lease);
          return l == null || (l.getStatus() != null && l.getStatus().phase != LeasePhase.Active);
        },
        OPERATOR_WAIT,
        "the lease is released");
    GpuLease l = lease(lease);
    System.err.println(
        "[MarketScenarioTest] lease after delete: "
            + (l == null ? "deleted" : l.getStatus().phase + " cost " + l.getStatus().cost));
  }

  @Test
  @Order(9)
  void anEndedJobKeepsItsCost() {
    Assumptions.assumeTrue(doneCost != null, "the succeeded job's scenario did not get that far");
    // Minutes after it ended (a running lease accrues every minute), the bill is what it was.
    ComputeJob done = client.resources(ComputeJob.class).inNamespace(TENANT).withName(DONE).get();
    assertThat(done.getStatus().cost).isEqualTo(doneCost);
    assertThat(done.getStatus().gpuSeconds).isEqualTo(doneGpuSeconds);
    GpuLease lease = lease(done.getStatus().lease);
    assertThat(lease.getStatus().cost).isEqualTo(doneCost);
    assertThat(lease.getStatus().phase).isEqualTo(LeasePhase.Released);

    Command.Result jobs = cluster.kubectl("get", "computejob", DONE, "-n", TENANT);
    assertThat(jobs.exitCode()).as(jobs.toString()).isZero();
    assertThat(line(jobs.stdout(), DONE)).contains("Succeeded", doneCost);
  }

  @Test
  @Order(10)
  void theOperatorWasNeverForbiddenAnything() {
    assertThat(operator.alive()).isTrue();
    assertThat(operator.forbidden()).isEmpty();
    assertThat(operator.text().lines().filter(l -> l.contains("exceeded quota")))
        .as("pods refused by the tenant's quota: it must be raised before the lease is Active")
        .isEmpty();
  }

  @Test
  @Order(11)
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
      Lease held =
          awaitValue(
              leases::get,
              l -> l.getSpec().getHolderIdentity() != null,
              "the first replica holds the Lease gpumarket-operator");
      String holder = held.getSpec().getHolderIdentity();
      System.err.println("[MarketScenarioTest] leader: " + holder);
      second = OperatorProcess.start(cluster, kubeconfig, env, "operator-le-2");
      // The second replica is up and asking; the leader renews twice meanwhile and keeps it.
      var renewed = held.getSpec().getRenewTime();
      for (int i = 0; i < 2; i++) {
        var since = renewed;
        renewed =
            awaitValue(
                    leases::get,
                    l -> !since.equals(l.getSpec().getRenewTime()),
                    "the leader renews the Lease")
                .getSpec()
                .getRenewTime();
      }
      assertThat(leases.get().getSpec().getHolderIdentity()).isEqualTo(holder);
      // Agents heartbeat in a namespace of their own: their token cannot seize the leadership.
      try (KubernetesClient agent =
          KubeCluster.clientFor(cluster.serviceAccountKubeconfig(SYSTEM, "gpumarket-agent"))) {
        Lease seized = leases.get();
        seized.getSpec().setHolderIdentity("an-agent");
        assertThatThrownBy(() -> agent.leases().inNamespace(SYSTEM).resource(seized).update())
            .isInstanceOfSatisfying(
                KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
        Lease other =
            new LeaseBuilder().withNewMetadata().withName("not-a-heartbeat").endMetadata().build();
        assertThatThrownBy(() -> agent.leases().inNamespace(SYSTEM).resource(other).create())
            .isInstanceOfSatisfying(
                KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
      }
      assertThat(leases.get().getSpec().getHolderIdentity()).isEqualTo(holder);
      first.kill();
      await(
          () -> !holder.equals(leases.get().getSpec().getHolderIdentity()),
          OPERATOR_WAIT,
          "another replica takes the Lease from " + holder);
      // The new leader binds a new job (no region asked: the us-east offer, cheapest, wins).
      apply(job("after-failover", 1, "", "[sleep, \"3600\"]"));
      ComputeJob job = waitForJob("after-failover", j -> "Running".equals(phase(j)), OPERATOR_WAIT);
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

  /** The job's pods that are not being deleted. */
  static List<Pod> pods(String job) {
    return client.pods().inNamespace(TENANT).list().getItems().stream()
        .filter(
            p ->
                p.getMetadata().getOwnerReferences().stream()
                    .anyMatch(o -> o.getName().equals(job)))
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  static GpuLease lease(String name) {
    return client.resources(GpuLease.class).inNamespace(TENANT).withName(name).get();
  }

  static List<GpuLease> tenantLeases() {
    return client.resources(GpuLease.class).inNamespace(TENANT).list().getItems().stream()
        .filter(l -> l.getStatus() != null && l.getStatus().cost != null)
        .toList();
  }

  /** The hard limit of {@code requests.nvidia.com/gpu} in the tenant's managed quota. */
  static String quotaGpus() {
    ResourceQuota quota =
        client.resourceQuotas().inNamespace(TENANT).withName("gpumarket-gpus").get();
    if (quota == null || quota.getSpec().getHard() == null) {
      return null;
    }
    Quantity gpus = quota.getSpec().getHard().get("requests.nvidia.com/gpu");
    return gpus == null ? null : gpus.toString();
  }

  static Condition condition(ComputeJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no " + type + " condition: " + job.getStatus().conditions));
  }

  /** Price times GPU-seconds over 3600, to four decimals, as a lease bills. */
  static BigDecimal cost(long gpuSeconds, String pricePerGpuHour) {
    return new BigDecimal(pricePerGpuHour)
        .multiply(BigDecimal.valueOf(gpuSeconds))
        .divide(BigDecimal.valueOf(3600), 4, RoundingMode.HALF_UP);
  }

  /** Leased over healthy GPUs of the h100-80gb datacenter hosts, from their statuses. */
  static double h100Utilization() {
    long leased = 0;
    long healthy = 0;
    for (GpuNode node : client.resources(GpuNode.class).list().getItems()) {
      var spec = node.getSpec();
      if (spec.gpus == null
          || !"h100-80gb".equals(spec.gpus.model)
          || spec.tier != Tier.DATACENTER
          || node.getStatus() == null) {
        continue;
      }
      leased += node.getStatus().allocations.stream().mapToInt(a -> a.gpus).sum();
      healthy += node.getStatus().allocatableGpus == null ? 0 : node.getStatus().allocatableGpus;
    }
    return healthy == 0 ? 0 : Math.min(1.0, (double) leased / healthy);
  }

  /**
   * Waits until the query gives one series of the expected value, the expectation read again on
   * each try (it may move, as a running lease's cost does).
   */
  static void expect(PrometheusServer prometheus, String promql, Supplier<Double> expected) {
    double[] want = {Double.NaN};
    try {
      prometheus.waitFor(
          promql,
          s -> {
            want[0] = expected.get();
            return s.size() == 1 && Math.abs(s.get(0).value() - want[0]) < 1e-6;
          },
          OPERATOR_WAIT);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; expected one series of value " + want[0], e);
    }
  }

  /** A ComputeJob of h100s, any region, whose container runs the command. */
  static String job(String name, int perReplica, String moreSpec, String command) {
    return """
        apiVersion: gpumarket.io/v1alpha1
        kind: ComputeJob
        metadata: {name: %s, namespace: %s}
        spec:
          gpu: {models: [h100-80gb], perReplica: %d}
          %s
          template:
            spec:
              containers: [{name: main, image: busybox, command: %s}]
        """
        .formatted(name, TENANT, perReplica, moreSpec, command);
  }

  static String phase(ComputeJob job) {
    return job == null || job.getStatus() == null || job.getStatus().phase == null
        ? null
        : job.getStatus().phase.name();
  }

  static ComputeJob waitForJob(String name, Predicate<ComputeJob> until, Duration timeout) {
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

  /** Reads until the value is there and satisfies the predicate; returns it. */
  static <T> T awaitValue(Supplier<T> read, Predicate<T> until, String what) {
    long deadline = System.nanoTime() + OPERATOR_WAIT.toNanos();
    T value = null;
    while (System.nanoTime() < deadline) {
      value = read.get();
      if (value != null && until.test(value)) {
        return value;
      }
      sleep(500);
    }
    throw new AssertionError("not within " + OPERATOR_WAIT + ": " + what + "; last " + value);
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

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  /** Prints the tail of each operator's log when a scenario fails. */
  static class OperatorLogOnFailure implements TestWatcher {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      for (OperatorProcess started : OperatorProcess.started()) {
        System.err.println(
            "[MarketScenarioTest] operator log tail ("
                + started.log()
                + (started.alive() ? "" : ", stopped")
                + "):\n"
                + started.tail(80));
      }
    }
  }
}
