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

/** A container workload that needs GPUs of given models, at or under a price. */
@Group(GpuMarket.GROUP)
@Version(GpuMarket.VERSION)
// Named, not derived: without them fabric8 derives the plural with regular expressions in every
// constructor, which is every watch event and every reconcile's copy (5% of the operator's
// CPU at size L).
@Singular("computejob")
@Plural("computejobs")
@ShortNames({"cjob"})
@Categories(GpuMarket.CATEGORY)
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Model",
    jsonPath = ".status.model",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "GPUs",
    jsonPath = ".status.gpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Nodes",
    jsonPath = ".status.nodes",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Price/h",
    jsonPath = ".status.pricePerGpuHour",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Cost",
    jsonPath = ".status.cost",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class ComputeJob extends CustomResource<ComputeJobSpec, ComputeJobStatus>
    implements Namespaced {}
