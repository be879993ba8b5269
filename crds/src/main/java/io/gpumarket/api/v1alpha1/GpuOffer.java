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

/** Priced GPU capacity a provider lists on the market, from GpuNodes it owns. */
@Group(GpuMarket.GROUP)
@Version(GpuMarket.VERSION)
// Named, not derived: see ComputeJob.
@Singular("gpuoffer")
@Plural("gpuoffers")
@ShortNames({"go", "gpuo"})
@Categories(GpuMarket.CATEGORY)
@AdditionalPrinterColumn(
    name = "Model",
    jsonPath = ".spec.model",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Price/h",
    jsonPath = ".spec.pricePerGpuHour",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Available",
    jsonPath = ".status.availableGpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Leased",
    jsonPath = ".status.leasedGpus",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Largest-block",
    jsonPath = ".status.largestFreeBlock",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuOffer extends CustomResource<GpuOfferSpec, GpuOfferStatus> implements Namespaced {}
