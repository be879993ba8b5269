package io.gpumarket.api.tools;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Runs after fabric8's CRD generator in {@code process-classes}: puts printer columns in the order
 * the model declares them (the generator sorts them by JSON path, fabric8io/kubernetes-client
 * #7454, so Age would come first in {@code kubectl get}).
 */
public final class CrdFinisher {
  public static final List<Class<?>> RESOURCES =
      List.of(GpuNode.class, GpuOffer.class, GpuLease.class, ComputeJob.class);

  private CrdFinisher() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    for (Class<?> resource : RESOURCES) {
      List<String> order =
          Arrays.stream(resource.getAnnotationsByType(AdditionalPrinterColumn.class))
              .map(AdditionalPrinterColumn::name)
              .toList();
      Path file = dir.resolve(crdFileName(resource));
      CustomResourceDefinition crd;
      try (var in = Files.newInputStream(file)) {
        crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
      }
      for (CustomResourceDefinitionVersion version : crd.getSpec().getVersions()) {
        List<CustomResourceColumnDefinition> columns = version.getAdditionalPrinterColumns();
        if (columns != null) {
          columns.sort(Comparator.comparingInt(c -> order.indexOf(c.getName())));
        }
      }
      Files.writeString(
          file,
          "# Generated from the model in crds/src/main/java by `mvn -pl crds process-classes`;"
              + " do not edit.\n"
              + Serialization.asYaml(crd));
    }
  }

  /** The file name fabric8's generator gives the CRD of a resource class. */
  public static String crdFileName(Class<?> resource) {
    var crd = io.fabric8.kubernetes.client.CustomResource.getCRDName(resourceClass(resource));
    return crd + "-v1.yml";
  }

  @SuppressWarnings("unchecked")
  private static Class<? extends io.fabric8.kubernetes.api.model.HasMetadata> resourceClass(
      Class<?> c) {
    return (Class<? extends io.fabric8.kubernetes.api.model.HasMetadata>) c;
  }
}
