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
 * GPUs of an offer leased into the tenant's namespace for a time window at a locked price. A team
 * makes one to reserve capacity; the operator makes one on demand for each ComputeJob.
 */
@Group(GpuMarket.GROUP)
@Version(GpuMarket.VERSION)
// Named, not derived: see ComputeJob.
@Singular("gpulease")
@Plural("gpuleases")
@ShortNames({"gl", "gpul"})
@Categories(GpuMarket.CATEGORY)
@AdditionalPrinterColumn(
    name = "Offer",
    jsonPath = ".status.offer.name",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Model",
    jsonPath = ".status.model",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "GPUs",
    jsonPath = ".spec.gpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Price/h",
    jsonPath = ".status.pricePerGpuHour",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Ends",
    jsonPath = ".status.endTime",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Cost",
    jsonPath = ".status.cost",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuLease extends CustomResource<GpuLeaseSpec, GpuLeaseStatus> implements Namespaced {}
