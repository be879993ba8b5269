package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobSpec;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeGpus;
import io.gpumarket.api.v1alpha1.GpuNodeSpec;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferSpec;
import io.gpumarket.api.v1alpha1.GpuRequirement;
import io.gpumarket.api.v1alpha1.Tier;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/** Builds the test fleet and plays the parts an API server alone lacks: the kubelet. */
final class Fleet {
  static {
    // A resource read while the operator has not written its status yet is not a failure.
    org.awaitility.Awaitility.ignoreExceptionsByDefault();
  }

  final KubernetesClient client;

  Fleet(KubernetesClient client) {
    this.client = client;
  }

  void applyCrds() {
    for (String file :
        List.of(
            "gpunodes.gpumarket.io-v1.yml",
            "gpuoffers.gpumarket.io-v1.yml",
            "gpuleases.gpumarket.io-v1.yml",
            "computejobs.gpumarket.io-v1.yml")) {
      try (InputStream in = getClass().getResourceAsStream("/META-INF/fabric8/" + file)) {
        CustomResourceDefinition crd =
            client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .resource(crd)
            .createOr(c -> c.update());
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  Namespace namespace(String name, Map<String, String> labels) {
    return client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .build())
        .create();
  }

  Node node(String name, boolean ready) {
    return client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewStatus()
                .addNewCondition()
                .withType("Ready")
                .withStatus(ready ? "True" : "False")
                .endCondition()
                .endStatus()
                .build())
        .create();
  }

  void setNodeReady(String name, boolean ready) {
    Node n = client.nodes().withName(name).get();
    n.getStatus().getConditions().get(0).setStatus(ready ? "True" : "False");
    client.nodes().resource(n).updateStatus();
  }

  GpuNode gpuNode(String name, String provider, Tier tier, String region, String model, int gpus) {
    node(name, true);
    GpuNode g = new GpuNode();
    g.getMetadata().setName(name);
    g.getMetadata()
        .setLabels(Map.of("gpumarket.io/provider", provider, "gpumarket.io/model", model));
    GpuNodeSpec spec = new GpuNodeSpec();
    spec.provider = provider;
    spec.tier = tier;
    spec.nodeName = name;
    spec.region = region;
    spec.gpus = new GpuNodeGpus();
    spec.gpus.model = model;
    spec.gpus.count = gpus;
    g.setSpec(spec);
    return client.resources(GpuNode.class).resource(g).create();
  }

  /**
   * The smallest market: tenant namespace {@code team-a}, provider {@code acme} with host {@code
   * dc-1} (8 H100s) sold by its offer {@code acme/h100} at 2.40.
   */
  /**
   * A tenant namespace and two providers, {@code cheap} and {@code dear}, each with one host of 8
   * H100s ({@code cheap-1}, {@code dear-1}) in {@code eu} and an offer {@code h100} at its price.
   */
  void cheapAndDearHosts(String tenant, String cheapPrice, String dearPrice) {
    namespace(tenant, Map.of("gpumarket.io/tenant", "true"));
    namespace("cheap", Map.of());
    namespace("dear", Map.of());
    gpuNode("cheap-1", "cheap", Tier.DATACENTER, "eu", "h100-80gb", 8);
    gpuNode("dear-1", "dear", Tier.DATACENTER, "eu", "h100-80gb", 8);
    offer("cheap", "h100", "cheap", "h100-80gb", cheapPrice);
    offer("dear", "h100", "dear", "h100-80gb", dearPrice);
  }

  /**
   * Starts an operator until it has seen every GpuNode (their statuses say how many GPUs each has),
   * then stops it: what a later operator starts from after a restart.
   */
  void seenByAnOperatorThatStops(int gpusPerNode) {
    try (TestOperator first = TestOperator.start(client)) {
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  org.assertj.core.api.Assertions.assertThat(
                          client.resources(GpuNode.class).list().getItems())
                      .allSatisfy(
                          n ->
                              org.assertj.core.api.Assertions.assertThat(
                                      n.getStatus().allocatableGpus)
                                  .isEqualTo(gpusPerNode)));
    }
  }

  void oneH100Host() {
    namespace("team-a", Map.of("gpumarket.io/tenant", "true"));
    namespace("acme", Map.of());
    gpuNode("dc-1", "acme", Tier.DATACENTER, "eu-west", "h100-80gb", 8);
    offer("acme", "h100", "acme", "h100-80gb", "2.40");
  }

  GpuOffer offer(String ns, String name, String provider, String model, String price) {
    GpuOffer o = new GpuOffer();
    o.getMetadata().setName(name);
    o.getMetadata().setNamespace(ns);
    GpuOfferSpec spec = new GpuOfferSpec();
    spec.provider = provider;
    spec.model = model;
    spec.pricePerGpuHour = price;
    spec.nodeSelector =
        new LabelSelector(
            null, Map.of("gpumarket.io/provider", provider, "gpumarket.io/model", model));
    spec.tenants = new LabelSelector(null, Map.of("gpumarket.io/tenant", "true"));
    o.setSpec(spec);
    return client.resources(GpuOffer.class).resource(o).create();
  }

  static ComputeJob job(
      String ns, String name, List<String> models, int replicas, int perReplica, String maxPrice) {
    ComputeJob j = new ComputeJob();
    j.getMetadata().setName(name);
    j.getMetadata().setNamespace(ns);
    ComputeJobSpec spec = new ComputeJobSpec();
    spec.gpu = new GpuRequirement();
    spec.gpu.models = models;
    spec.gpu.perReplica = perReplica;
    spec.replicas = replicas;
    spec.maxPricePerGpuHour = maxPrice;
    spec.template =
        new PodTemplateSpecBuilder()
            .withNewSpec()
            .withContainers(
                new ContainerBuilder()
                    .withName("train")
                    .withImage("busybox")
                    .withCommand("sleep", "60")
                    .build())
            .endSpec()
            .build();
    j.setSpec(spec);
    return j;
  }

  ComputeJob create(ComputeJob job) {
    return client.resources(ComputeJob.class).resource(job).create();
  }

  ComputeJob getJob(String ns, String name) {
    return client.resources(ComputeJob.class).inNamespace(ns).withName(name).get();
  }

  GpuNode getNode(String name) {
    return client.resources(GpuNode.class).withName(name).get();
  }

  GpuOffer getOffer(String ns, String name) {
    return client.resources(GpuOffer.class).inNamespace(ns).withName(name).get();
  }

  GpuLease getLease(String ns, String name) {
    return client.resources(GpuLease.class).inNamespace(ns).withName(name).get();
  }

  List<GpuLease> leases(String ns) {
    return client.resources(GpuLease.class).inNamespace(ns).list().getItems();
  }

  /** The GPU limit of the tenant's quota that the operator keeps, or null while it has none. */
  String quotaGpus(String ns) {
    ResourceQuota q = client.resourceQuotas().inNamespace(ns).withName(Labels.QUOTA_NAME).get();
    return q == null ? null : q.getSpec().getHard().get(QuotaKeeper.HARD_KEY).getAmount();
  }

  List<Pod> pods(String ns, String job) {
    return client.pods().inNamespace(ns).withLabel(Labels.JOB, job).list().getItems();
  }

  /** Plays the kubelet: moves every pod of a job to a phase. */
  void setPodPhases(String ns, String job, String phase) {
    for (Pod p : pods(ns, job)) {
      setPodPhase(p, phase);
    }
  }

  void setPodPhase(Pod p, String phase) {
    Pod fresh =
        client
            .pods()
            .inNamespace(p.getMetadata().getNamespace())
            .withName(p.getMetadata().getName())
            .get();
    if (fresh == null) {
      return;
    }
    if (fresh.getStatus() == null) {
      fresh.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
    }
    fresh.getStatus().setPhase(phase);
    client.pods().resource(fresh).updateStatus();
  }
}
