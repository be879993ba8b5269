package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MarketViewTest {
  @Test
  void theLabelIndexSelectsExactlyTheNodesAScanSelectsInTheSameOrder() {
    Random random = new Random(7);
    List<String> providers = List.of("acme", "edge", "grid");
    List<String> models = List.of("h100-80gb", "l40s", "rtx-4090");
    List<GpuNode> nodes = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      GpuNode node = new GpuNode();
      node.getMetadata().setName("n" + i);
      if (random.nextInt(10) > 0) {
        node.getMetadata()
            .setLabels(
                Map.of(
                    "gpumarket.io/provider", providers.get(random.nextInt(3)),
                    "gpumarket.io/model", models.get(random.nextInt(3))));
      }
      nodes.add(node);
    }
    var index = new MarketView.NodeIndex(nodes);
    for (int i = 0; i < 200; i++) {
      GpuOffer offer = new GpuOffer();
      offer.setSpec(new GpuOfferSpec());
      var selector = new LabelSelectorBuilder();
      switch (random.nextInt(4)) {
        case 0 -> selector.addToMatchLabels("gpumarket.io/provider", providers.get(i % 3));
        case 1 ->
            selector
                .addToMatchLabels("gpumarket.io/provider", providers.get(i % 3))
                .addToMatchLabels("gpumarket.io/model", models.get(random.nextInt(3)));
        case 2 ->
            selector
                .addToMatchLabels("gpumarket.io/model", models.get(i % 3))
                .addNewMatchExpression()
                .withKey("gpumarket.io/provider")
                .withOperator("NotIn")
                .withValues("acme")
                .endMatchExpression();
        default -> selector.addToMatchLabels("absent", "label");
      }
      offer.getSpec().nodeSelector = selector.build();
      if (random.nextBoolean()) {
        offer.getSpec().nodeNames = List.of("n" + random.nextInt(300), "n-missing");
      }
      assertThat(index.selected(offer))
          .as("offer %d", i)
          .containsExactlyElementsOf(MarketView.selectedNodes(offer, nodes));
    }
  }
}
