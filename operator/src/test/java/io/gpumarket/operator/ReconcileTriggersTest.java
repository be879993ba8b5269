package io.gpumarket.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpumarket.api.v1alpha1.ChallengeAnswer;
import io.gpumarket.api.v1alpha1.ChallengeStatus;
import io.gpumarket.api.v1alpha1.GpuAllocation;
import io.gpumarket.api.v1alpha1.GpuLease;
import io.gpumarket.api.v1alpha1.GpuLeaseStatus;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuNodeGpus;
import io.gpumarket.api.v1alpha1.GpuNodeSpec;
import io.gpumarket.api.v1alpha1.GpuNodeStatus;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.GpuOfferStatus;
import io.gpumarket.api.v1alpha1.IssuedChallenge;
import io.gpumarket.api.v1alpha1.LeasePhase;
import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.ObservedHardware;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.api.v1alpha1.UptimeStatus;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Which changes set reconciles off: at fleet scale the frequent, irrelevant ones (uptime writes,
 * offers' counts) must not reach thousands of offers or pending leases.
 */
class ReconcileTriggersTest {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private static GpuNode node() {
    GpuNode n = new GpuNode();
    n.getMetadata().setName("n");
    n.getMetadata().setGeneration(1L);
    n.getMetadata().setLabels(new HashMap<>(Map.of("gpumarket.io/provider", "p")));
    n.setSpec(new GpuNodeSpec());
    n.getSpec().provider = "p";
    n.getSpec().tier = Tier.EDGE;
    n.getSpec().nodeName = "n";
    n.getSpec().gpus = new GpuNodeGpus();
    n.getSpec().gpus.model = "l4";
    n.getSpec().gpus.count = 4;
    n.setStatus(new GpuNodeStatus());
    n.getStatus().allocatableGpus = 4;
    n.getStatus().uptime = new UptimeStatus();
    n.getStatus().uptime.ratio24h = 0.99;
    Conditions.set(n.getStatus().conditions, "Ready", true, "Heartbeat", "up", 1L, Instant.EPOCH);
    return n;
  }

  /** Whether a filter of GpuNode updates passes a change made to a copy of {@link #node()}. */
  private static boolean passes(
      java.util.function.BiPredicate<GpuNode, GpuNode> filter, Consumer<GpuNode> change) {
    GpuNode before = node();
    GpuNode after = JSON.clone(before);
    change.accept(after);
    return filter.test(after, before);
  }

  private static boolean changes(Consumer<GpuNode> change) {
    return passes(GpuOfferReconciler::changesWhatOffersShow, change);
  }

  /** A lease's hold of 2 GPUs added to the node's ledger. */
  private static final Consumer<GpuNode> HELD =
      n ->
          n.getStatus()
              .allocations
              .add(
                  new GpuAllocation(new ObjectRef("team", "l"), "uid", new ObjectRef("p", "o"), 2));

  /** The node's Ready condition turned False. */
  private static final Consumer<GpuNode> DOWN =
      n ->
          Conditions.set(
              n.getStatus().conditions,
              "Ready",
              false,
              "HeartbeatStale",
              "down",
              1L,
              Instant.EPOCH);

  @Test
  void uptimeAndChallengesDoNotReachTheOffersHoldsHealthAndLabelsDo() {
    assertThat(changes(n -> n.getStatus().uptime.ratio24h = 0.98)).isFalse();
    assertThat(changes(n -> n.getStatus().lastHeartbeatTime = "2026-11-22T12:00:00Z")).isFalse();
    assertThat(changes(HELD)).isTrue();
    assertThat(changes(n -> n.getStatus().allocatableGpus = 3)).isTrue();
    assertThat(changes(DOWN)).isTrue();
    assertThat(changes(n -> n.getMetadata().getLabels().put("zone", "a"))).isTrue();
    assertThat(changes(n -> n.getMetadata().setGeneration(2L))).isTrue();
  }

  @Test
  void jobsHearOfTheirNodesReadinessNotOfTheirLedgerOrUptime() {
    GpuNode before = node();
    GpuNode held = JSON.clone(before);
    HELD.accept(held);
    held.getStatus().uptime.ratio24h = 0.5;
    assertThat(ComputeJobReconciler.readinessChanged(held, before)).isFalse();
    GpuNode down = JSON.clone(before);
    Conditions.set(
        down.getStatus().conditions,
        "Ready",
        false,
        "HeartbeatStale",
        "down",
        1L,
        Instant.parse("2026-11-22T12:00:00Z"));
    assertThat(ComputeJobReconciler.readinessChanged(down, before)).isTrue();
  }

  private static boolean nodeLooks(Consumer<GpuNode> change) {
    return passes(new GpuNodeReconciler.NeedsALook()::accept, change);
  }

  @Test
  void aNodeIsLookedAtForItsSpecLabelsAndAgentNotForItsLedgerOrWhatItsReconcilerWrote() {
    assertThat(nodeLooks(HELD)).isFalse();
    assertThat(nodeLooks(n -> n.getStatus().leasedGpus = 2)).isFalse();
    assertThat(nodeLooks(n -> n.getStatus().uptime.ratio24h = 0.98)).isFalse();
    assertThat(nodeLooks(DOWN)).isFalse();
    assertThat(
            nodeLooks(
                n -> {
                  n.getStatus().challenges = new ChallengeStatus();
                  n.getStatus().challenges.issued = new IssuedChallenge();
                  n.getStatus().challenges.issued.nonce = "abc";
                }))
        .isFalse();

    assertThat(nodeLooks(n -> n.getMetadata().setGeneration(2L))).isTrue();
    assertThat(nodeLooks(n -> n.getMetadata().getLabels().put("zone", "a"))).isTrue();
    assertThat(nodeLooks(n -> n.getStatus().observed = new ObservedHardware())).isTrue();
    assertThat(
            nodeLooks(
                n -> {
                  n.getStatus().challenges = new ChallengeStatus();
                  n.getStatus().challenges.answer = new ChallengeAnswer();
                  n.getStatus().challenges.answer.nonce = "abc";
                }))
        .isTrue();
  }

  @Test
  void aNodeHearsOfALeaseWhenItEndsOrIsDeletedNotOfItsBindOrAccruals() {
    GpuLease pending = new GpuLease();
    pending.getMetadata().setName("l");
    pending.setStatus(new GpuLeaseStatus());
    pending.getStatus().phase = LeasePhase.Pending;
    GpuLease active = JSON.clone(pending);
    active.getStatus().phase = LeasePhase.Active;
    GpuLease accrued = JSON.clone(active);
    accrued.getStatus().gpuSeconds = 120L;
    GpuLease released = JSON.clone(accrued);
    released.getStatus().phase = LeasePhase.Released;
    GpuLease deleting = JSON.clone(accrued);
    deleting.getMetadata().setDeletionTimestamp("2026-12-07T06:00:00Z");

    assertThat(GpuNodeReconciler.endsHolds(active, pending)).isFalse();
    assertThat(GpuNodeReconciler.endsHolds(accrued, active)).isFalse();
    assertThat(GpuNodeReconciler.endsHolds(released, accrued)).isTrue();
    assertThat(GpuNodeReconciler.endsHolds(deleting, accrued)).isTrue();
  }

  @Test
  void pendingLeasesAreNotSentThroughTheMarketForAnOffersCounts() {
    GpuOffer before = new GpuOffer();
    before.getMetadata().setGeneration(3L);
    before.setStatus(new GpuOfferStatus());
    before.getStatus().availableGpus = 8;
    GpuOffer counts = JSON.clone(before);
    counts.getStatus().availableGpus = 6;
    assertThat(GpuLeaseReconciler.mayChangeTheMarket(counts, before)).isFalse();
    GpuOffer repriced = JSON.clone(before);
    repriced.getMetadata().setGeneration(4L);
    assertThat(GpuLeaseReconciler.mayChangeTheMarket(repriced, before)).isTrue();
  }
}
