package io.gpumarket.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A short name that a built-in resource also has makes {@code kubectl get} answer with the other
 * resource ({@code cj} lists CronJobs), so ours must be unique.
 */
class ShortNamesTest {
  /** The short names of Kubernetes' own resources (kubectl api-resources, v1.20 to v1.31). */
  private static final Set<String> BUILT_IN =
      Set.of(
          "cs", "cm", "ep", "ev", "limits", "ns", "no", "pvc", "pv", "po", "rc", "quota", "sa",
          "svc", "crd", "crds", "ds", "deploy", "rs", "sts", "hpa", "cj", "csr", "ing", "netpol",
          "pdb", "psp", "pc", "sc", "vac", "all");

  @Test
  void noShortNameShadowsAKubernetesResourceOrAnotherOfOurs() {
    List<String> ours = new ArrayList<>();
    Stream.of(ComputeJob.class, GpuLease.class, GpuNode.class, GpuOffer.class)
        .forEach(c -> ours.addAll(List.of(c.getAnnotation(ShortNames.class).value())));
    assertThat(ours).isNotEmpty().doesNotHaveDuplicates();
    assertThat(ours).noneMatch(BUILT_IN::contains);
  }
}
