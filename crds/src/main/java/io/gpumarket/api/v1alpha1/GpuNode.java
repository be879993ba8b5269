package io.gpumarket.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One GPU host contributed to the market by a provider. Cluster-scoped: a host belongs to the
 * cluster, its capacity is sold through GpuOffers in the provider's namespace.
 */
@Group(GpuMarket.GROUP)
@Version(GpuMarket.VERSION)
// Named, not derived: see ComputeJob.
@Singular("gpunode")
@Plural("gpunodes")
@ShortNames({"gn", "gpun"})
@Categories(GpuMarket.CATEGORY)
@AdditionalPrinterColumn(
    name = "Tier",
    jsonPath = ".spec.tier",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Model",
    jsonPath = ".spec.gpus.model",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "GPUs",
    jsonPath = ".spec.gpus.count",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Leased",
    jsonPath = ".status.leasedGpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Verified",
    jsonPath = ".status.conditions[?(@.type==\"Verified\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Uptime-24h",
    jsonPath = ".status.uptime.ratio24h",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuNode extends CustomResource<GpuNodeSpec, GpuNodeStatus> {
  /** Cluster-scoped resources implement no {@link Namespaced}. */
  public GpuNode() {}
}
