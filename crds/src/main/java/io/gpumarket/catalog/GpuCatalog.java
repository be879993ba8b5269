package io.gpumarket.catalog;

import io.gpumarket.catalog.GpuModel.Segment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * The canonical GPU model catalog: maps the names that CUDA reports ({@code NVIDIA H100 80GB
 * HBM3}), that GPU Feature Discovery puts in {@code nvidia.com/gpu.product} ({@code
 * NVIDIA-H100-80GB-HBM3}) and that marketplaces use ({@code H100 SXM}, {@code RTX4090}) to one key.
 *
 * <p>Names are split into lower-case tokens; vendor words (nvidia, geforce, tesla) are dropped,
 * {@code 40 GB} and {@code 40G} become {@code 40gb}, {@code rtx4090} becomes {@code rtx 4090}. A
 * model matches when all tokens of one of its signatures are present; the match with the most
 * tokens wins, and a tie between models, or a family named without the size that tells its models
 * apart ({@code A100}), is reported as ambiguous rather than guessed.
 */
public final class GpuCatalog {

  /** Keys shown in an error message as examples. */
  static final List<String> EXAMPLE_KEYS = List.of("h100-80gb", "a100-40gb", "rtx-4090");

  private static final Set<String> NOISE =
      Set.of("nvidia", "geforce", "tesla", "graphics", "gpu", "card", "the");

  private static final java.util.regex.Pattern SPLIT =
      java.util.regex.Pattern.compile("[^a-z0-9]+");
  private static final java.util.regex.Pattern PREFIXED_NUMBER =
      java.util.regex.Pattern.compile("^(rtx|gtx)([0-9]{4})$");
  private static final java.util.regex.Pattern MEMORY =
      java.util.regex.Pattern.compile("^([0-9]{1,3})g(b)?$");

  private static final List<GpuModel> MODELS =
      List.of(
          // Datacenter. Figures are dense (no sparsity), SXM where a card has several forms.
          model("h200-141gb", "NVIDIA H200", Segment.DATACENTER, 141, 67, 1979, "h200"),
          model("h100-80gb", "NVIDIA H100 80GB", Segment.DATACENTER, 80, 67, 1979, "h100"),
          model("h100-nvl-94gb", "NVIDIA H100 NVL", Segment.DATACENTER, 94, 60, 1671, "h100 nvl"),
          model("a100-80gb", "NVIDIA A100 80GB", Segment.DATACENTER, 80, 19.5, 624, "a100 80gb"),
          model("a100-40gb", "NVIDIA A100 40GB", Segment.DATACENTER, 40, 19.5, 624, "a100 40gb"),
          model("l40s", "NVIDIA L40S", Segment.DATACENTER, 48, 91.6, 733, "l40s"),
          model("l4", "NVIDIA L4", Segment.DATACENTER, 24, 30.3, 242, "l4"),
          model("t4", "NVIDIA T4", Segment.DATACENTER, 16, 8.1, 130, "t4"),
          model("v100-32gb", "NVIDIA V100 32GB", Segment.DATACENTER, 32, 15.7, 62, "v100 32gb"),
          model("v100-16gb", "NVIDIA V100 16GB", Segment.DATACENTER, 16, 15.7, 62, "v100 16gb"),
          // Consumer.
          model("rtx-5090", "NVIDIA GeForce RTX 5090", Segment.CONSUMER, 32, 104.8, 838, "5090"),
          model("rtx-4090", "NVIDIA GeForce RTX 4090", Segment.CONSUMER, 24, 82.6, 661, "4090"),
          model("rtx-4080", "NVIDIA GeForce RTX 4080", Segment.CONSUMER, 16, 48.7, 390, "4080"),
          model("rtx-3090", "NVIDIA GeForce RTX 3090", Segment.CONSUMER, 24, 35.6, 284, "3090"),
          model("rtx-3080", "NVIDIA GeForce RTX 3080", Segment.CONSUMER, 10, 29.8, 238, "3080"),
          // Edge modules. CUDA reports a Jetson AGX Orin simply as "Orin".
          model(
              "jetson-agx-orin",
              "NVIDIA Jetson AGX Orin",
              Segment.EDGE,
              64,
              5.3,
              138,
              "orin",
              "jetson agx orin"),
          model("jetson-orin-nx", "NVIDIA Jetson Orin NX", Segment.EDGE, 16, 1.9, 50, "orin nx"),
          model(
              "jetson-orin-nano",
              "NVIDIA Jetson Orin Nano",
              Segment.EDGE,
              8,
              1.3,
              20,
              "orin nano"));

  private static final Map<String, GpuModel> BY_KEY = new LinkedHashMap<>();

  static {
    for (GpuModel m : MODELS) {
      BY_KEY.put(m.key(), m);
    }
  }

  private GpuCatalog() {}

  /** Every model, datacenter first. */
  public static List<GpuModel> models() {
    return MODELS;
  }

  /** The model with this canonical key, exactly as written. */
  public static Optional<GpuModel> byKey(String key) {
    return Optional.ofNullable(key == null ? null : BY_KEY.get(key));
  }

  /** Resolves any product name or key to a model, or says why it cannot. */
  public static CatalogMatch resolve(String name) {
    if (name == null || name.isBlank()) {
      return new CatalogMatch(String.valueOf(name), Optional.empty(), List.of());
    }
    GpuModel exact = BY_KEY.get(name.trim().toLowerCase(Locale.ROOT));
    if (exact != null) {
      return new CatalogMatch(name, Optional.of(exact), List.of());
    }
    Set<String> tokens = Set.copyOf(tokens(name));
    int best = 0;
    List<GpuModel> winners = new ArrayList<>();
    for (GpuModel m : MODELS) {
      int score =
          m.signatures().stream().filter(tokens::containsAll).mapToInt(Set::size).max().orElse(0);
      if (score > best) {
        best = score;
        winners.clear();
      }
      if (score > 0 && score == best) {
        winners.add(m);
      }
    }
    if (winners.size() == 1) {
      return new CatalogMatch(name, Optional.of(winners.get(0)), List.of());
    }
    if (winners.isEmpty()) {
      List<GpuModel> family =
          MODELS.stream()
              .filter(m -> tokens.contains(m.family()))
              .sorted(Comparator.comparing(GpuModel::key))
              .toList();
      return new CatalogMatch(name, Optional.empty(), family);
    }
    winners.sort(Comparator.comparing(GpuModel::key));
    return new CatalogMatch(name, Optional.empty(), winners);
  }

  static List<String> tokens(String name) {
    List<String> raw = new ArrayList<>();
    for (String t : SPLIT.split(name.toLowerCase(Locale.ROOT))) {
      if (t.isEmpty() || NOISE.contains(t)) {
        continue;
      }
      Matcher prefixed = PREFIXED_NUMBER.matcher(t);
      if (prefixed.matches()) {
        raw.add(prefixed.group(1));
        raw.add(prefixed.group(2));
        continue;
      }
      raw.add(t);
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < raw.size(); i++) {
      String t = raw.get(i);
      Matcher memory = MEMORY.matcher(t);
      if (memory.matches()) {
        out.add(memory.group(1) + "gb");
      } else if (t.matches("[0-9]{1,3}") && i + 1 < raw.size() && raw.get(i + 1).equals("gb")) {
        out.add(t + "gb");
        i++;
      } else {
        out.add(t);
      }
    }
    return out;
  }

  private static GpuModel model(
      String key,
      String displayName,
      Segment segment,
      int memoryGiB,
      double fp32Tflops,
      double int8Tops,
      String... signatures) {
    List<Set<String>> sigs = new ArrayList<>();
    for (String s : signatures) {
      sigs.add(Set.of(s.split(" ")));
    }
    return new GpuModel(key, displayName, segment, memoryGiB, fp32Tflops, int8Tops, sigs);
  }
}
