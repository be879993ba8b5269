package io.gpumarket.bench;

import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.PlacementRequest;
import java.util.Objects;

/**
 * The market's rules restated in the benchmark, apart from the market's code: which offers and
 * nodes a request may use. The naive policies and the optimum bound use it, and the invariant
 * checks hold every placement of the market to it.
 */
final class Eligibility {
  private Eligibility() {}

  /** The offer-level rules: model, currency, tenant, suspension, price cap, lease duration. */
  static boolean offer(OfferState o, PlacementRequest r) {
    return r.models().contains(o.model())
        && o.currency().equals(r.currency())
        && o.admitsTenant().test(r.tenant())
        && !o.suspended()
        && (r.maxPrice() == null || o.price().compareTo(r.maxPrice()) <= 0)
        && (r.duration() == null
            || ((o.minLease() == null || r.duration().compareTo(o.minLease()) >= 0)
                && (o.maxLease() == null || r.duration().compareTo(o.maxLease()) <= 0)));
  }

  /** The node-level rules, free GPUs aside (a block still needs {@code gpusPerBlock} of them). */
  static boolean node(NodeState n, OfferState o, PlacementRequest r) {
    return n != null
        && Objects.equals(n.provider(), o.provider())
        && Objects.equals(n.model(), o.model())
        && n.ready()
        && n.schedulable()
        && n.healthyGpus() >= r.gpusPerBlock()
        && r.tier().accepts(n.tier())
        && (r.regions().isEmpty() || r.regions().contains(n.region()))
        && (!r.requireVerified() || n.verified())
        && (r.minUptimeRatio() == null
            || (n.uptime24h() != null && n.uptime24h() >= r.minUptimeRatio()));
  }
}
