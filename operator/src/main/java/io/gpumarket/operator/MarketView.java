package io.gpumarket.operator;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.market.Durations;
import io.gpumarket.market.Market;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Turns the market's resources, as the informers hold them, into the plain inputs of {@link
 * Market}. Offers whose spec is invalid are left out: their own status says why.
 */
public final class MarketView {
  private MarketView() {}

  /**
   * Builds the market.
   *
   * @param ignoreLeaseUid a lease whose own holds count as free, so that a bind interrupted half
   *     way can be redone; null for none
   */
  public static Market market(
      Collection<GpuNode> nodes,
      Collection<GpuOffer> offers,
      Function<String, Namespace> namespaces,
      String ignoreLeaseUid) {
    return market(
        nodes, offers, ignoreLeaseUid, new NodeIndex(nodes), new TenantPolicies(namespaces));
  }

  static Market market(
      Collection<GpuNode> nodes,
      Collection<GpuOffer> offers,
      String ignoreLeaseUid,
      NodeIndex index,
      TenantPolicies policies) {
    List<NodeState> nodeStates = new ArrayList<>(nodes.size());
    Map<ObjectRef, Integer> leasedByOffer = new HashMap<>();
    for (GpuNode node : nodes) {
      if (!SpecProblems.of(node.getSpec()).isEmpty()) {
        continue;
      }
      nodeStates.add(nodeState(node, ignoreLeaseUid));
      for (GpuAllocation a : allocations(node)) {
        if (a.offer != null && !Objects.equals(a.leaseUid, ignoreLeaseUid)) {
          leasedByOffer.merge(a.offer, a.gpus, Integer::sum);
        }
      }
    }
    List<OfferState> offerStates = new ArrayList<>(offers.size());
    for (GpuOffer offer : offers) {
      if (!SpecProblems.of(offer.getSpec()).isEmpty()) {
        continue;
      }
      ObjectRef id = idOf(offer);
      offerStates.add(
          offerState(offer, index.selected(offer), leasedByOffer.getOrDefault(id, 0), policies));
    }
    return new Market(nodeStates, offerStates);
  }

  /** Whether a GpuNode's spec says enough for {@link #nodeState}: a spec that names its GPUs. */
  static boolean hasGpuSpec(GpuNode node) {
    return node.getSpec() != null && node.getSpec().gpus != null;
  }

  public static NodeState nodeState(GpuNode node, String ignoreLeaseUid) {
    var spec = node.getSpec();
    var status = node.getStatus();
    int held = 0;
    for (GpuAllocation a : allocations(node)) {
      if (!Objects.equals(a.leaseUid, ignoreLeaseUid)) {
        held += a.gpus;
      }
    }
    int healthy = status == null || status.allocatableGpus == null ? 0 : status.allocatableGpus;
    boolean ready = status != null && Conditions.isTrue(status.conditions, "Ready");
    boolean verified = status != null && Conditions.isTrue(status.conditions, "Verified");
    Double uptime = status == null || status.uptime == null ? null : status.uptime.ratio24h;
    return new NodeState(
        node.getMetadata().getName(),
        spec.nodeName,
        spec.provider,
        spec.tier,
        spec.region,
        spec.gpus.model,
        healthy,
        held,
        ready,
        !spec.unschedulable,
        verified,
        uptime);
  }

  public static OfferState offerState(
      GpuOffer offer, List<String> nodes, int leased, Function<String, Namespace> namespaces) {
    return offerState(offer, nodes, leased, new TenantPolicies(namespaces));
  }

  static OfferState offerState(
      GpuOffer offer, List<String> nodes, int leased, TenantPolicies policies) {
    var spec = offer.getSpec();
    return new OfferState(
        idOf(offer),
        spec.provider,
        spec.model,
        nodes,
        spec.gpus,
        leased,
        new BigDecimal(spec.pricePerGpuHour),
        spec.currency == null ? "USD" : spec.currency,
        spec.minLeaseDuration == null ? null : Durations.parse(spec.minLeaseDuration),
        spec.maxLeaseDuration == null ? null : Durations.parse(spec.maxLeaseDuration),
        policies.of(spec.tenants),
        spec.suspended);
  }

  /**
   * Whether a namespace may lease from an offer, one policy object per tenant selector: the market
   * asks each policy once per decision, and many offers share a selector. Namespaces are read when
   * asked, so a policy follows their labels.
   */
  static final class TenantPolicies {
    private final Function<String, Namespace> namespaces;
    private final Map<LabelSelector, Predicate<String>> bySelector = new HashMap<>();
    private final Predicate<String> none = tenant -> false;

    TenantPolicies(Function<String, Namespace> namespaces) {
      this.namespaces = namespaces;
    }

    Predicate<String> of(LabelSelector tenants) {
      if (tenants == null) {
        return none;
      }
      Predicate<String> policy = bySelector.get(tenants);
      if (policy == null) {
        // A copy: the key must not change with the offer it came from.
        LabelSelector selector = new LabelSelectorBuilder(tenants).build();
        policy =
            tenant -> {
              Namespace ns = namespaces.apply(tenant);
              return Selectors.matches(
                  selector, ns == null ? Map.of() : ns.getMetadata().getLabels());
            };
        bySelector.put(selector, policy);
      }
      return policy;
    }
  }

  /**
   * GpuNodes by label, so that selecting an offer's nodes looks at the nodes carrying one of its
   * {@code matchLabels} rather than at every node: offers times nodes is what a large fleet cannot
   * afford.
   */
  static final class NodeIndex {
    private final Collection<GpuNode> nodes;
    private final Map<String, Map<String, List<GpuNode>>> byLabel = new HashMap<>();

    NodeIndex(Collection<GpuNode> nodes) {
      this.nodes = nodes;
      for (GpuNode node : nodes) {
        var labels = node.getMetadata().getLabels();
        if (labels != null) {
          labels.forEach(
              (k, v) ->
                  byLabel
                      .computeIfAbsent(k, x -> new HashMap<>())
                      .computeIfAbsent(v, x -> new ArrayList<>())
                      .add(node));
        }
      }
    }

    /** The same as {@link MarketView#selectedNodes}, in the same order. */
    List<String> selected(GpuOffer offer) {
      return selectedNodes(
          offer,
          selectorCandidates(
              offer,
              (k, v) -> byLabel.getOrDefault(k, Map.of()).getOrDefault(v, List.of()),
              () -> nodes));
    }
  }

  /**
   * The GpuNodes an offer's selector may match: those carrying the one of its {@code matchLabels}
   * that fewest nodes carry, all nodes for a selector of expressions only, none without a selector.
   * {@link #selectedNodes} then applies the selector itself and adds the nodes named.
   *
   * @param withLabel the nodes carrying a label key and value
   */
  static Collection<GpuNode> selectorCandidates(
      GpuOffer offer,
      java.util.function.BiFunction<String, String, List<GpuNode>> withLabel,
      java.util.function.Supplier<Collection<GpuNode>> all) {
    var selector = offer.getSpec().nodeSelector;
    if (selector == null) {
      return List.of();
    }
    if (selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty()) {
      return all.get();
    }
    List<GpuNode> narrowest = null;
    for (var e : selector.getMatchLabels().entrySet()) {
      List<GpuNode> with = withLabel.apply(e.getKey(), e.getValue());
      if (narrowest == null || with.size() < narrowest.size()) {
        narrowest = with;
      }
    }
    return narrowest;
  }

  /** The GpuNodes an offer selects by name or by label, whoever owns them. */
  public static List<String> selectedNodes(GpuOffer offer, Collection<GpuNode> nodes) {
    var spec = offer.getSpec();
    Set<String> selected = new LinkedHashSet<>();
    if (spec.nodeNames != null) {
      selected.addAll(spec.nodeNames);
    }
    if (spec.nodeSelector != null) {
      for (GpuNode node : nodes) {
        if (Selectors.matches(spec.nodeSelector, node.getMetadata().getLabels())) {
          selected.add(node.getMetadata().getName());
        }
      }
    }
    return List.copyOf(selected);
  }

  public static List<GpuAllocation> allocations(GpuNode node) {
    return node.getStatus() == null || node.getStatus().allocations == null
        ? List.of()
        : node.getStatus().allocations;
  }

  public static ObjectRef idOf(io.fabric8.kubernetes.api.model.HasMetadata r) {
    return new ObjectRef(r.getMetadata().getNamespace(), r.getMetadata().getName());
  }
}
