package io.gpumarket.bench;

import io.gpumarket.market.Decision;
import io.gpumarket.market.Market;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.Placement;
import io.gpumarket.market.Refusal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checks at the end of every run: no GPU leased twice, no node over-committed, every job that
 * can be served is bound, every other one says why not.
 */
final class Invariants {
  private Invariants() {}

  /** What the checks found. */
  static final class Report {
    final List<String> violations = new ArrayList<>();
    int bound;
    int waiting;
    int waitingWithReason;
    int unservableOnFreeFleet;
    final Map<String, Integer> reasons = new LinkedHashMap<>();

    void violation(String what) {
      violations.add(what);
    }

    boolean ok() {
      return violations.isEmpty();
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ok", ok());
      m.put("violations", violations.size());
      m.put("firstViolations", violations.subList(0, Math.min(10, violations.size())));
      m.put("bound", bound);
      m.put("waiting", waiting);
      m.put("waitingWithReason", waitingWithReason);
      m.put("unservableOnFreeFleet", unservableOnFreeFleet);
      m.put("waitingReasons", reasons);
      return m;
    }
  }

  /**
   * After a batch decided on one market snapshot: every node within its healthy GPUs (by the
   * benchmark's own ledger and by the market's), every waiting job refused again on the final state
   * with a reason, every job generated unservable refused even on a free fleet.
   */
  static void afterBatch(
      Workload w,
      List<Workload.Job> batch,
      Map<Integer, Decision> decisions,
      Market market,
      Quality.Ledger ledger,
      Report report) {
    Market free = new Market(w.nodeStates(), w.offerStates());
    for (NodeState n : w.nodeStates()) {
      int held = ledger.held.getOrDefault(n.name(), 0);
      if (held > n.healthyGpus()) {
        report.violation(n.name() + " holds " + held + " of " + n.healthyGpus() + " GPUs");
      }
      if (market.node(n.name()).heldGpus() != held) {
        report.violation(
            n.name() + ": market holds " + market.node(n.name()).heldGpus() + ", ledger " + held);
      }
    }
    for (var e : decisions.entrySet()) {
      Workload.Job job = batch.get(e.getKey());
      if (e.getValue() instanceof Placement) {
        report.bound++;
        if (job.unservable() != null) {
          report.violation(job.name() + " placed although " + job.unservable());
        }
        continue;
      }
      report.waiting++;
      Decision again = market.place(job.request());
      if (again instanceof Placement) {
        report.violation(job.name() + " could be served now but waits");
      } else if (again instanceof Refusal r && r.message() != null && !r.message().isBlank()) {
        report.waitingWithReason++;
        report.reasons.merge(r.reason().name(), 1, Integer::sum);
      } else {
        report.violation(job.name() + " waits without a reason");
      }
      if (free.place(job.request()) instanceof Refusal) {
        report.unservableOnFreeFleet++;
      } else if (job.unservable() != null) {
        report.violation(job.name() + " placeable on a free fleet although " + job.unservable());
      }
    }
  }
}
