package io.gpumarket.operator.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpumarket.api.v1alpha1.ComputeJob;
import io.gpumarket.api.v1alpha1.GpuNode;
import io.gpumarket.api.v1alpha1.GpuOffer;
import io.gpumarket.api.v1alpha1.JobPhase;
import io.gpumarket.operator.MarketView;
import io.gpumarket.operator.SpecProblems;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What a platform team wants to see at a glance, as text: jobs, GPUs, prices, unready nodes. */
public final class MarketBoard {
  private MarketBoard() {}

  /** Longest list of waiting jobs shown; the rest are counted. */
  static final int WAITING_SHOWN = 8;

  public static void print(KubernetesClient client, PrintStream out) {
    print(client, out, false);
  }

  /**
   * @param clear whether to clear the terminal first, so the board refreshes in place
   */
  public static void print(KubernetesClient client, PrintStream out, boolean clear) {
    List<GpuNode> nodes = client.resources(GpuNode.class).list().getItems();
    List<GpuOffer> offers = client.resources(GpuOffer.class).inAnyNamespace().list().getItems();
    List<ComputeJob> jobs = client.resources(ComputeJob.class).inAnyNamespace().list().getItems();

    Map<String, Integer> byPhase = new TreeMap<>();
    for (JobPhase p : JobPhase.values()) {
      byPhase.put(p.name(), 0);
    }
    jobs.forEach(
        j ->
            byPhase.merge(
                j.getStatus() == null || j.getStatus().phase == null
                    ? "Pending"
                    : j.getStatus().phase.name(),
                1,
                Integer::sum));

    Map<String, int[]> gpus = new TreeMap<>();
    List<String> unready = new ArrayList<>();
    List<String> unverified = new ArrayList<>();
    for (GpuNode n : nodes) {
      if (!SpecProblems.of(n.getSpec()).isEmpty()) {
        unready.add(n.getMetadata().getName() + " (invalid spec)");
        continue;
      }
      var s = MarketView.nodeState(n, null);
      int[] c = gpus.computeIfAbsent(s.model() + " " + s.tier().value(), k -> new int[4]);
      c[0] += n.getSpec().gpus.count;
      c[1] += s.healthyGpus();
      c[2] += s.heldGpus();
      c[3] += s.ready() && s.schedulable() ? s.freeGpus() : 0;
      if (!s.ready()) {
        unready.add(s.name() + " (" + reason(n, "Ready") + ")");
      }
      if (n.getStatus() != null
          && n.getStatus().conditions.stream()
              .anyMatch(k -> k.getType().equals("Verified") && k.getStatus().equals("False"))) {
        unverified.add(s.name() + " (" + reason(n, "Verified") + ")");
      }
    }
    Map<String, String> cheapest = new TreeMap<>();
    Map<String, BigDecimal> best = new TreeMap<>();
    for (GpuOffer o : offers) {
      if (!SpecProblems.of(o.getSpec()).isEmpty()
          || o.getStatus() == null
          || o.getStatus().availableGpus == null
          || o.getStatus().availableGpus == 0) {
        continue;
      }
      BigDecimal price = new BigDecimal(o.getSpec().pricePerGpuHour);
      if (!best.containsKey(o.getSpec().model)
          || price.compareTo(best.get(o.getSpec().model)) < 0) {
        best.put(o.getSpec().model, price);
        cheapest.put(
            o.getSpec().model,
            price.toPlainString()
                + " "
                + o.getSpec().currency
                + "/h at "
                + o.getMetadata().getNamespace()
                + "/"
                + o.getMetadata().getName());
      }
    }
    StringBuilder b = new StringBuilder();
    if (clear) {
      b.append("\033[H\033[2J");
    }
    b.append("\n== gpumarket ").append(java.time.LocalTime.now().withNano(0)).append(" ==\n");
    b.append("jobs: ");
    byPhase.forEach((p, n) -> b.append(p).append('=').append(n).append("  "));
    b.append("\n");
    b.append(
        String.format(
            "%-26s %6s %8s %7s %5s %6s%n",
            "MODEL/TIER", "GPUS", "HEALTHY", "LEASED", "FREE", "UTIL"));
    gpus.forEach(
        (k, c) ->
            b.append(
                String.format(
                    "%-26s %6d %8d %7d %5d %5.0f%%%n",
                    k, c[0], c[1], c[2], c[3], c[1] == 0 ? 0.0 : 100.0 * c[2] / c[1])));
    int healthy = gpus.values().stream().mapToInt(c -> c[1]).sum();
    int leased = gpus.values().stream().mapToInt(c -> c[2]).sum();
    b.append(
        String.format(
            "utilization: %d of %d healthy GPUs leased (%.0f%%)%n",
            leased, healthy, healthy == 0 ? 0.0 : 100.0 * leased / healthy));
    b.append("cheapest available:\n");
    cheapest.forEach((m, p) -> b.append(String.format("  %-18s %s%n", m, p)));
    b.append("nodes not ready: ")
        .append(unready.isEmpty() ? "none" : String.join(", ", unready))
        .append('\n');
    b.append("nodes not verified: ")
        .append(unverified.isEmpty() ? "none" : String.join(", ", unverified))
        .append('\n');
    int waiting = 0;
    for (ComputeJob j : jobs) {
      if (j.getStatus() != null
          && j.getStatus().phase == JobPhase.Pending
          && j.getStatus().message != null) {
        if (++waiting > WAITING_SHOWN) {
          continue;
        }
        b.append("waiting ")
            .append(j.getMetadata().getNamespace())
            .append('/')
            .append(j.getMetadata().getName())
            .append(": ")
            .append(j.getStatus().message)
            .append('\n');
      }
    }
    if (waiting > WAITING_SHOWN) {
      b.append("... and ").append(waiting - WAITING_SHOWN).append(" more jobs waiting\n");
    }
    out.print(b);
    out.flush();
  }

  private static String reason(GpuNode node, String type) {
    return node.getStatus() == null
        ? "no status yet"
        : node.getStatus().conditions.stream()
            .filter(c -> c.getType().equals(type))
            .map(c -> c.getReason())
            .findFirst()
            .orElse("unknown");
  }
}
