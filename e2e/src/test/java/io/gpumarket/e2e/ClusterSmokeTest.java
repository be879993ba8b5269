package io.gpumarket.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Gauge;
import io.prometheus.client.exporter.HTTPServer;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Proves the end-to-end infrastructure against the real API server: the project's CRDs and RBAC
 * install, kubectl explains and lists the resources, RBAC is enforced for the operator's
 * ServiceAccount, and a real Prometheus scrapes a real exporter.
 */
class ClusterSmokeTest {

  private static final String GPUNODES_CRD = "gpunodes.gpumarket.io";

  private static KubeCluster cluster;
  private static List<String> crdNames;

  @BeforeAll
  static void installCrdsAndRbac() throws IOException {
    long t0 = System.nanoTime();
    cluster = KubeCluster.get();
    long t1 = System.nanoTime();
    Path manifests = cluster.root().resolve("manifests");
    List<Path> crdFiles;
    try (Stream<Path> files = Files.list(manifests.resolve("crds"))) {
      crdFiles = files.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
    }
    assertThat(crdFiles).isNotEmpty();
    crdNames =
        cluster.applyFiles(crdFiles).stream()
            .filter(CustomResourceDefinition.class::isInstance)
            .map(crd -> crd.getMetadata().getName())
            .toList();
    assertThat(crdNames).contains(GPUNODES_CRD);
    long t2 = System.nanoTime();
    crdNames.forEach(name -> cluster.waitForCrd(name, Duration.ofMinutes(2)));
    long t3 = System.nanoTime();
    cluster.applyFile(manifests.resolve("01-rbac.yaml"));
    System.err.printf(
        "[ClusterSmokeTest] cluster %.1f s, CRDs applied %.1f s, established %.1f s, RBAC %.1f s%n",
        (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (System.nanoTime() - t3) / 1e9);
  }

  @Test
  void kubectlExplainDescribesTheFields() {
    Command.Result explain = cluster.kubectl("explain", "gpunodes.spec");

    assertThat(explain.exitCode()).as(explain.toString()).isZero();
    assertThat(explain.stdout()).contains("KIND:", "GpuNode", "FIELDS:", "gpus", "provider");
    assertThat(explain.stdout()).contains("The GPUs the provider declares for this host.");
  }

  @Test
  void kubectlListsGpuNodesWithThePrinterColumns() {
    List<HasMetadata> applied =
        cluster.applyFile(cluster.root().resolve("manifests/examples/10-gpunodes.yaml"));
    try {
      assertListed(applied);
    } finally {
      // Hosts with no agent would be part of the market the next test class runs.
      applied.forEach(node -> cluster.client().resource(node).delete());
    }
  }

  private void assertListed(List<HasMetadata> applied) {
    assertThat(applied).isNotEmpty();

    Command.Result get = cluster.kubectl("get", "gpunodes");

    assertThat(get.exitCode()).as(get.toString()).isZero();
    String header = get.stdout().lines().findFirst().orElse("");
    List<String> columns =
        cluster
            .client()
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .withName(GPUNODES_CRD)
            .get()
            .getSpec()
            .getVersions()
            .get(0)
            .getAdditionalPrinterColumns()
            .stream()
            .filter(c -> c.getPriority() == null || c.getPriority() == 0)
            .map(CustomResourceColumnDefinition::getName)
            .map(String::toUpperCase)
            .toList();
    assertThat(columns).isNotEmpty();
    assertThat(header).startsWith("NAME").contains(columns);
    for (HasMetadata node : applied) {
      assertThat(get.stdout()).contains(node.getMetadata().getName());
    }
  }

  @Test
  void theManifestsApplyServerSide() {
    // As `kubectl apply --server-side` would install them, without creating anything: the
    // DaemonSet and Deployment would start pods that nothing here can run. A 1.20 server refuses a
    // port without its protocol (a key of the ports list) this way, where client-side apply
    // defaults it.
    List<String> files =
        new ArrayList<>(List.of("01-rbac.yaml", "02-operator.yaml", "03-agent.yaml"));
    Command.Result admission =
        cluster.kubectl("api-resources", "--api-group=admissionregistration.k8s.io", "-o", "name");
    if (admission.stdout().contains("validatingadmissionpolicies")) {
      files.add("04-agent-policy.yaml"); // Kubernetes 1.30+
    }
    // A dry run does not create the manifests' namespaces, and the objects in them need them.
    for (String file : files) {
      try (var in = Files.newInputStream(cluster.root().resolve("manifests").resolve(file))) {
        cluster.client().load(in).items().stream()
            .filter(Namespace.class::isInstance)
            .forEach(
                ns ->
                    cluster
                        .client()
                        .resource(ns)
                        .fieldManager(KubeCluster.FIELD_MANAGER)
                        .serverSideApply());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    for (String file : files) {
      Command.Result apply =
          cluster.kubectl(
              "apply",
              "--server-side",
              "--force-conflicts",
              "--field-manager=" + KubeCluster.FIELD_MANAGER,
              "--dry-run=server",
              "-f",
              cluster.root().resolve("manifests").resolve(file).toString());
      assertThat(apply.exitCode()).as(apply.toString()).isZero();
      assertThat(apply.stdout()).contains("serverside-applied (server dry run)");
    }
  }

  @Test
  void theOperatorsServiceAccountHasExactlyItsRoles() {
    // A namespace the ServiceAccount must not be able to delete.
    String probe = "e2e-rbac-probe";
    cluster
        .client()
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(probe).endMetadata().build())
        .serverSideApply();
    Path kubeconfig = cluster.serviceAccountKubeconfig("gpumarket-system", "gpumarket-operator");

    try (KubernetesClient operator = KubeCluster.clientFor(kubeconfig)) {
      List<GenericKubernetesResource> nodes =
          operator.genericKubernetesResources("gpumarket.io/v1alpha1", "GpuNode").list().getItems();
      assertThat(nodes).isNotNull();
      assertThatThrownBy(() -> operator.namespaces().withName(probe).delete())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }

    Command.Result list = cluster.kubectlAs(kubeconfig, null, "get", "gpunodes");
    assertThat(list.exitCode()).as(list.toString()).isZero();
    Command.Result delete = cluster.kubectlAs(kubeconfig, null, "delete", "namespace", probe);
    assertThat(delete.exitCode()).as(delete.toString()).isNotZero();
    assertThat(delete.stderr()).contains("forbidden");
    assertThat(cluster.client().namespaces().withName(probe).get()).isNotNull();
  }

  @Test
  void theControllerManagerCollectsGarbageAndEmptiesDeletedNamespaces() {
    KubernetesClient client = cluster.client();
    String namespace = "e2e-gc-probe";
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .serverSideApply();
    ConfigMap owner =
        client
            .configMaps()
            .inNamespace(namespace)
            .resource(
                new ConfigMapBuilder().withNewMetadata().withName("owner").endMetadata().build())
            .create();
    client
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("owned")
                .addNewOwnerReference()
                .withApiVersion("v1")
                .withKind("ConfigMap")
                .withName("owner")
                .withUid(owner.getMetadata().getUid())
                .endOwnerReference()
                .endMetadata()
                .build())
        .create();

    client.configMaps().inNamespace(namespace).withName("owner").delete();
    client
        .configMaps()
        .inNamespace(namespace)
        .withName("owned")
        .waitUntilCondition(Objects::isNull, 3, TimeUnit.MINUTES);

    client.namespaces().withName(namespace).delete();
    client
        .namespaces()
        .withName(namespace)
        .waitUntilCondition(Objects::isNull, 3, TimeUnit.MINUTES);
  }

  @Test
  void prometheusScrapesAnExporterAndPromtoolJudgesExpositions() throws IOException {
    CollectorRegistry registry = new CollectorRegistry();
    Gauge gauge =
        Gauge.build("gpumarket_e2e_smoke_value", "A gauge the smoke test sets.")
            .labelNames("kind")
            .register(registry);
    gauge.labels("smoke").set(42.5);
    HTTPServer exporter =
        new HTTPServer.Builder()
            .withHostname("127.0.0.1")
            .withPort(0)
            .withRegistry(registry)
            .build();
    try (PrometheusServer prometheus =
        PrometheusServer.start(Map.of("smoke", List.of("127.0.0.1:" + exporter.getPort())))) {
      List<PrometheusServer.Sample> samples =
          prometheus.waitFor("gpumarket_e2e_smoke_value", s -> !s.isEmpty(), Duration.ofMinutes(1));

      assertThat(samples).hasSize(1);
      assertThat(samples.get(0).value()).isEqualTo(42.5);
      assertThat(samples.get(0).labels())
          .containsEntry("kind", "smoke")
          .containsEntry("job", "smoke")
          .containsEntry("instance", "127.0.0.1:" + exporter.getPort());
      assertThat(prometheus.query("up{job=\"smoke\"}"))
          .extracting(s -> s.value())
          .containsOnly(1.0);
    } finally {
      exporter.close();
    }

    StringWriter exposition = new StringWriter();
    TextFormat.write004(exposition, registry.metricFamilySamples());
    assertThat(Promtool.checkMetrics(exposition.toString())).isEmpty();
    assertThat(Promtool.checkMetrics("gpumarket_e2e_smoke_value{kind=\"smoke\" 1\n")).isNotEmpty();
    // Lint, not only syntax: a counter must end in _total.
    assertThat(
            Promtool.checkMetrics(
                "# HELP gpumarket_e2e_things Things.\n"
                    + "# TYPE gpumarket_e2e_things counter\n"
                    + "gpumarket_e2e_things 1\n"))
        .anySatisfy(p -> assertThat(p).contains("_total"));
  }
}
