package io.gpumarket.bench;

import io.gpumarket.api.v1alpha1.ObjectRef;
import io.gpumarket.api.v1alpha1.Tier;
import io.gpumarket.api.v1alpha1.TierRequirement;
import io.gpumarket.market.NodeState;
import io.gpumarket.market.OfferState;
import io.gpumarket.market.PlacementRequest;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A fleet and a stream of jobs, generated from a seed: GPU hosts in pools (one provider, model,
 * region and tier each), offers over the pools, tenant namespaces, and jobs with the mix of a real
 * market. The same size and seed always give the same workload.
 */
public final class Workload {
  /** How many GpuNodes, offers and jobs. */
  public record Size(String name, int nodes, int offers, int jobs) {
    public static Size of(String name) {
      return switch (name.toUpperCase(java.util.Locale.ROOT)) {
        case "XS" -> new Size("XS", 20, 40, 200);
        case "S" -> new Size("S", 100, 200, 1_000);
        case "M" -> new Size("M", 1_000, 2_000, 10_000);
        case "L" -> new Size("L", 5_000, 10_000, 50_000);
        default -> throw new IllegalArgumentException("unknown size " + name + ": XS, S, M or L");
      };
    }
  }

  /** A GPU model of the fleet: its share of hosts, list price, tier mix and host sizes. */
  record Model(
      String key, double share, double price, double datacenter, int[] gpus, String alternative) {}

  static final List<Model> MODELS =
      List.of(
          new Model("h100-80gb", 0.12, 2.40, 1.0, new int[] {8, 8, 8, 4}, "h200-141gb"),
          new Model("h200-141gb", 0.03, 3.50, 1.0, new int[] {8}, "h100-80gb"),
          new Model("a100-80gb", 0.09, 1.50, 1.0, new int[] {8, 4}, "a100-40gb"),
          new Model("a100-40gb", 0.07, 1.10, 0.9, new int[] {8, 4, 2}, "a100-80gb"),
          new Model("l40s", 0.10, 0.90, 0.8, new int[] {8, 4, 2}, "l4"),
          new Model("l4", 0.08, 0.45, 0.5, new int[] {4, 2, 1}, "t4"),
          new Model("t4", 0.06, 0.20, 0.6, new int[] {4, 2, 1}, "l4"),
          new Model("rtx-4090", 0.25, 0.40, 0.1, new int[] {1, 2, 4, 8}, "rtx-3090"),
          new Model("rtx-3090", 0.15, 0.22, 0.05, new int[] {1, 2, 4}, "rtx-4090"));

  /** A catalog model no provider in the fleet sells. */
  static final String UNSOLD_MODEL = "v100-32gb";

  static final List<String> REGIONS =
      List.of("us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-northeast");
  static final double[] REGION_WEIGHTS = {0.30, 0.20, 0.20, 0.15, 0.10, 0.05};
  static final int PROVIDERS = 12;
  static final int TENANTS = 20;
  static final String TENANT_LABEL = "gpumarket.io/tenant";
  static final String PREMIUM_LABEL = "gpumarket.io/plan";
  static final String POOL_LABEL = "gpumarket.io/pool";

  /** A host: its market state and the pool it belongs to. */
  public record Node(NodeState state, String pool, String zone, int declaredGpus) {}

  /**
   * An offer: its market state, and how it selects nodes (the pool's label, or by name) and tenants
   * (every tenant, or the premium ones).
   */
  public record Offer(OfferState state, String pool, boolean byName, boolean premiumOnly) {}

  /**
   * A job: what its ComputeJob says, the request the market sees, and why it cannot be served
   * whatever the fleet's state ({@code null} for a job the fleet could serve when it is free).
   */
  public record Job(
      String name,
      String tenant,
      int replicas,
      int perReplica,
      Duration deadline,
      PlacementRequest request,
      String unservable) {
    public int gpus() {
      return replicas * perReplica;
    }
  }

  public final Size size;
  public final long seed;
  public final Map<String, Map<String, String>> tenants = new LinkedHashMap<>();
  public List<Node> nodes = new ArrayList<>();
  public List<Offer> offers = new ArrayList<>();
  public List<Job> jobs = new ArrayList<>();

  private final Random random;

  /** Tenant policies, one object each, as offers with the same tenant selector share one. */
  private final Predicate<String> premiumTenants = this::isPremium;

  private final Predicate<String> anyTenant = tenants::containsKey;

  private Workload(Size size, long seed) {
    this.size = size;
    this.seed = seed;
    this.random = new Random(seed);
  }

  public static Workload generate(Size size, long seed) {
    Workload w = new Workload(size, seed);
    w.tenants();
    w.fleet();
    w.jobs();
    return w;
  }

  public List<NodeState> nodeStates() {
    return nodes.stream().map(Node::state).toList();
  }

  public List<OfferState> offerStates() {
    return offers.stream().map(Offer::state).toList();
  }

  public int healthyGpus() {
    return nodes.stream().mapToInt(n -> n.state().healthyGpus()).sum();
  }

  private void tenants() {
    for (int i = 0; i < TENANTS; i++) {
      Map<String, String> labels = new LinkedHashMap<>();
      labels.put(TENANT_LABEL, "true");
      if (i % 5 == 0) {
        labels.put(PREMIUM_LABEL, "premium");
      }
      tenants.put(String.format("team-%02d", i), labels);
    }
  }

  private void fleet() {
    double[] shares = MODELS.stream().mapToDouble(Model::share).toArray();
    double[] providerWeights = new double[PROVIDERS];
    double[] providerFactor = new double[PROVIDERS];
    for (int p = 0; p < PROVIDERS; p++) {
      providerWeights[p] = 1.0 / (p + 1); // a few large providers, a long tail
      providerFactor[p] = 0.85 + 0.3 * random.nextDouble();
    }
    int pools = 0;
    while (nodes.size() < size.nodes()) {
      Model model = MODELS.get(pick(shares));
      int provider = pick(providerWeights);
      String providerName = String.format("prov-%02d", provider);
      int regionIndex = pick(REGION_WEIGHTS);
      String region = REGIONS.get(regionIndex);
      Tier tier = random.nextDouble() < model.datacenter() ? Tier.DATACENTER : Tier.EDGE;
      int poolSize =
          Math.min(
              size.nodes() - nodes.size(),
              tier == Tier.DATACENTER ? 1 + random.nextInt(8) : 1 + random.nextInt(3));
      int gpus = model.gpus()[random.nextInt(model.gpus().length)];
      String pool = String.format("pool-%05d", pools++);
      List<String> names = new ArrayList<>();
      for (int i = 0; i < poolSize; i++) {
        String name = String.format("gn-%05d", nodes.size());
        names.add(name);
        boolean ready = random.nextDouble() >= 0.02;
        boolean schedulable = random.nextDouble() >= 0.01;
        boolean verified = random.nextDouble() < 0.7;
        Double uptime =
            random.nextDouble() < 0.05 ? null : 1.0 - 0.12 * Math.pow(random.nextDouble(), 3);
        int healthy = random.nextDouble() < 0.02 && gpus > 1 ? gpus - 1 : gpus;
        nodes.add(
            new Node(
                new NodeState(
                    name,
                    name,
                    providerName,
                    tier,
                    region,
                    model.key(),
                    healthy,
                    0,
                    ready,
                    schedulable,
                    verified,
                    uptime),
                pool,
                region + "-" + (char) ('a' + random.nextInt(3)),
                gpus));
      }
      double regionFactor = 0.9 + 0.2 * random.nextDouble();
      int poolGpus = poolSize * gpus;
      int poolOffers = 2 * poolSize;
      for (int o = 0; o < poolOffers && offers.size() < size.offers(); o++) {
        boolean byName = random.nextDouble() < 0.25 && poolSize > 1;
        List<String> selected = names;
        if (byName) {
          selected = new ArrayList<>(names.subList(0, Math.max(1, poolSize / 2)));
        }
        double price =
            model.price()
                * providerFactor[provider]
                * regionFactor
                * (0.9 + 0.3 * random.nextDouble());
        Integer cap =
            random.nextDouble() < 0.25
                ? Math.max(1, (int) Math.round(poolGpus * (0.3 + 0.7 * random.nextDouble())))
                : null;
        Duration minLease = random.nextDouble() < 0.2 ? Duration.ofHours(1) : null;
        Duration maxLease = random.nextDouble() < 0.15 ? Duration.ofHours(24) : null;
        boolean premiumOnly = random.nextDouble() < 0.15;
        boolean suspended = random.nextDouble() < 0.02;
        offers.add(
            new Offer(
                new OfferState(
                    new ObjectRef(providerName, pool + "-o" + o),
                    providerName,
                    model.key(),
                    List.copyOf(selected),
                    cap,
                    0,
                    BigDecimal.valueOf(Math.max(0.05, price)).setScale(2, RoundingMode.HALF_UP),
                    "USD",
                    minLease,
                    maxLease,
                    premiumOnly ? premiumTenants : anyTenant,
                    suspended),
                pool,
                byName,
                premiumOnly));
      }
    }
    // Too few offers when the last pools were small: more offers over the largest pools.
    int extra = 0;
    while (offers.size() < size.offers()) {
      Offer base = offers.get(extra++ % offers.size());
      OfferState s = base.state();
      offers.add(
          new Offer(
              new OfferState(
                  new ObjectRef(s.id().namespace, s.id().name + "-x" + extra),
                  s.provider(),
                  s.model(),
                  s.nodes(),
                  s.gpuCap(),
                  0,
                  s.price()
                      .multiply(BigDecimal.valueOf(1.05 + 0.1 * random.nextDouble()))
                      .setScale(2, RoundingMode.HALF_UP),
                  "USD",
                  s.minLease(),
                  s.maxLease(),
                  s.admitsTenant(),
                  false),
              base.pool(),
              base.byName(),
              base.premiumOnly()));
    }
  }

  private boolean isPremium(String tenant) {
    Map<String, String> labels = tenants.get(tenant);
    return labels != null && "premium".equals(labels.get(PREMIUM_LABEL));
  }

  private void jobs() {
    // Demand follows supply: a model's share of the jobs is its share of the fleet's GPUs, and no
    // block is larger than its largest host (the unservable jobs below aside).
    double[] shares = new double[MODELS.size()];
    int[] largestHost = new int[MODELS.size()];
    for (Node n : nodes) {
      for (int m = 0; m < MODELS.size(); m++) {
        if (MODELS.get(m).key().equals(n.state().model())) {
          shares[m] += n.state().healthyGpus();
          largestHost[m] = Math.max(largestHost[m], n.state().healthyGpus());
        }
      }
    }
    List<String> tenantNames = List.copyOf(tenants.keySet());
    for (int i = 0; i < size.jobs(); i++) {
      int m = pick(shares);
      Model model = MODELS.get(m);
      List<String> models =
          random.nextDouble() < 0.3
              ? List.of(model.key(), model.alternative())
              : List.of(model.key());
      int largest = Math.max(1, largestHost[m]);
      int perReplica = Math.min(largest, new int[] {1, 1, 1, 2, 2, 4, 4, 8}[random.nextInt(8)]);
      double r = random.nextDouble();
      int replicas = r < 0.80 ? 1 : r < 0.92 ? 2 : r < 0.97 ? 4 : 8;
      BigDecimal maxPrice =
          random.nextDouble() < 0.5
              ? BigDecimal.valueOf(
                      model.price() * new double[] {1.1, 1.25, 1.5, 2.0}[random.nextInt(4)])
                  .setScale(2, RoundingMode.HALF_UP)
              : null;
      TierRequirement tier =
          random.nextDouble() < 0.75
              ? TierRequirement.ANY
              : model.datacenter() >= 0.5 ? TierRequirement.DATACENTER : TierRequirement.EDGE;
      Set<String> regions =
          random.nextDouble() < 0.2
              ? Set.copyOf(
                  List.of(REGIONS.get(pick(REGION_WEIGHTS)), REGIONS.get(pick(REGION_WEIGHTS))))
              : Set.of();
      double u = random.nextDouble();
      Double minUptime = u < 0.12 ? Double.valueOf(0.95) : u < 0.15 ? Double.valueOf(0.99) : null;
      boolean verified = random.nextDouble() < 0.08;
      Duration deadline =
          random.nextDouble() < 0.4
              ? null
              : Duration.ofHours(new int[] {1, 2, 4, 8, 48}[random.nextInt(5)]);
      String currency = "USD";
      String unservable = null;
      // About 5% that no offer can serve, whatever the fleet's state.
      if (random.nextDouble() < 0.05) {
        switch (random.nextInt(5)) {
          case 0 -> {
            models = List.of(UNSOLD_MODEL);
            unservable = "no offer sells the model";
          }
          case 1 -> {
            maxPrice = new BigDecimal("0.01");
            unservable = "price cap under every offer";
          }
          case 2 -> {
            perReplica = 16;
            unservable = "block larger than any host";
          }
          case 3 -> {
            regions = Set.of("sa-east");
            unservable = "no host in the region";
          }
          default -> {
            currency = "EUR";
            unservable = "no offer in the currency";
          }
        }
      }
      String tenant = tenantNames.get(random.nextInt(tenantNames.size()));
      jobs.add(
          new Job(
              String.format("job-%06d", i),
              tenant,
              replicas,
              perReplica,
              deadline,
              new PlacementRequest(
                  tenant,
                  models,
                  tier,
                  regions,
                  minUptime,
                  verified,
                  replicas,
                  perReplica,
                  maxPrice,
                  currency,
                  deadline,
                  null),
              unservable));
    }
  }

  private int pick(double[] weights) {
    double total = 0;
    for (double w : weights) {
      total += w;
    }
    double x = random.nextDouble() * total;
    for (int i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) {
        return i;
      }
    }
    return weights.length - 1;
  }
}
