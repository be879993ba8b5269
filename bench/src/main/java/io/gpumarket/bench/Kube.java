package io.gpumarket.bench;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.ComputeJobSpec;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeGpus;
import io.gpumarket.api.v1alpha1.GpuNodeSpec;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferSpec;
import io.gpumarket.api.v1alpha1.GpuRequirement;
import io.gpumarket.api.v1alpha1.UptimeStatus;
import io.gpumarket.market.Durations;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.PlacementRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The workload as Kubernetes objects: what the operator's informers hold. */
final class Kube {
  private Kube() {}

  static List<Namespace> namespaces(Workload w) {
    List<Namespace> out = new ArrayList<>();
    w.tenants.forEach(
        (name, labels) ->
            out.add(
                new NamespaceBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .withLabels(labels)
                    .endMetadata()
                    .build()));
    w.offers.stream()
        .map(o -> o.state().id().namespace)
        .distinct()
        .forEach(
            ns ->
                out.add(
                    new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()));
    return out;
  }

  static Node node(Workload.Node n) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(n.state().nodeName())
        .addToLabels("kubernetes.io/hostname", n.state().nodeName())
        .endMetadata()
        .withNewStatus()
        .addNewCondition()
        .withType("Ready")
        .withStatus(n.state().ready() ? "True" : "False")
        .withReason("KubeletReady")
        .endCondition()
        .endStatus()
        .build();
  }

  /** A GpuNode; with its status as the operator would have written it when {@code withStatus}. */
  static GpuNode gpuNode(Workload.Node n, boolean withStatus) {
    NodeState s = n.state();
    GpuNode g = new GpuNode();
    g.getMetadata().setName(s.name());
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("gpumarket.io/provider", s.provider());
    labels.put("gpumarket.io/model", s.model());
    labels.put("gpumarket.io/region", s.region());
    labels.put(Workload.POOL_LABEL, n.pool());
    g.getMetadata().setLabels(labels);
    GpuNodeSpec spec = new GpuNodeSpec();
    spec.provider = s.provider();
    spec.tier = s.tier();
    spec.nodeName = s.nodeName();
    spec.region = s.region();
    spec.zone = n.zone();
    spec.gpus = new GpuNodeGpus();
    spec.gpus.model = s.model();
    spec.gpus.count = n.declaredGpus();
    spec.unschedulable = !s.schedulable();
    g.setSpec(spec);
    if (withStatus) {
      GpuNodeStatus status = new GpuNodeStatus();
      status.allocatableGpus = s.healthyGpus();
      status.leasedGpus = 0;
      status.conditions.add(condition("Ready", s.ready()));
      status.conditions.add(condition("Verified", s.verified()));
      if (s.uptime24h() != null) {
        status.uptime = new UptimeStatus();
        status.uptime.ratio24h = s.uptime24h();
        status.uptime.ratio1h = 1.0;
        status.uptime.ratio7d = s.uptime24h();
      }
      g.setStatus(status);
    }
    return g;
  }

  private static io.fabric8.kubernetes.api.model.Condition condition(String type, boolean value) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(value ? "True" : "False")
        .withReason(value ? type : "Not" + type)
        .withLastTransitionTime("2026-11-22T00:00:00Z")
        .build();
  }

  static GpuOffer offer(Workload.Offer o) {
    OfferState s = o.state();
    GpuOffer offer = new GpuOffer();
    offer.getMetadata().setName(s.id().name);
    offer.getMetadata().setNamespace(s.id().namespace);
    GpuOfferSpec spec = new GpuOfferSpec();
    spec.provider = s.provider();
    spec.model = s.model();
    if (o.byName()) {
      spec.nodeNames = List.copyOf(s.nodes());
    } else {
      spec.nodeSelector = new LabelSelector(null, Map.of(Workload.POOL_LABEL, o.pool()));
    }
    spec.gpus = s.gpuCap();
    spec.pricePerGpuHour = s.price().toPlainString();
    spec.currency = s.currency();
    spec.minLeaseDuration = s.minLease() == null ? null : Durations.format(s.minLease());
    spec.maxLeaseDuration = s.maxLease() == null ? null : Durations.format(s.maxLease());
    spec.tenants =
        new LabelSelector(
            null,
            o.premiumOnly()
                ? Map.of(Workload.PREMIUM_LABEL, "premium")
                : Map.of(Workload.TENANT_LABEL, "true"));
    spec.suspended = s.suspended();
    offer.setSpec(spec);
    return offer;
  }

  static ComputeJob job(Workload.Job j) {
    PlacementRequest r = j.request();
    ComputeJob job = new ComputeJob();
    job.getMetadata().setName(j.name());
    job.getMetadata().setNamespace(j.tenant());
    ComputeJobSpec spec = new ComputeJobSpec();
    spec.gpu = new GpuRequirement();
    spec.gpu.models = r.models();
    spec.gpu.perReplica = r.gpusPerBlock();
    spec.gpu.tier = r.tier();
    spec.gpu.regions = r.regions().isEmpty() ? null : List.copyOf(r.regions());
    spec.gpu.minUptimeRatio = r.minUptimeRatio();
    spec.gpu.requireVerified = r.requireVerified();
    spec.replicas = r.blocks();
    spec.maxPricePerGpuHour = r.maxPrice() == null ? null : r.maxPrice().toPlainString();
    spec.currency = r.currency();
    spec.activeDeadlineSeconds = j.deadline() == null ? null : j.deadline().toSeconds();
    spec.template =
        new PodTemplateSpecBuilder()
            .withNewSpec()
            .withContainers(
                new ContainerBuilder()
                    .withName("train")
                    .withImage("busybox")
                    .withCommand("sleep", "3600")
                    .build())
            .endSpec()
            .build();
    job.setSpec(spec);
    return job;
  }
}
