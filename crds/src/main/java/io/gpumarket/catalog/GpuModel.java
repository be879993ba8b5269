package io.gpumarket.catalog;

import java.util.List;
import java.util.Set;

/**
 * One GPU model of the catalog.
 *
 * @param key canonical key used everywhere in the API, such as {@code h100-80gb}
 * @param displayName how people name it
 * @param segment datacenter, consumer or edge
 * @param memoryGiB memory of one GPU
 * @param fp32Tflops dense FP32 throughput from the vendor's datasheet
 * @param int8Tops dense INT8 throughput from the vendor's datasheet; the compute challenge uses
 *     integer products, so this bounds how fast an honest card answers
 * @param signatures token sets that identify the model in a product name; the most specific
 *     signature that a name contains wins
 */
public record GpuModel(
    String key,
    String displayName,
    Segment segment,
    int memoryGiB,
    double fp32Tflops,
    double int8Tops,
    List<Set<String>> signatures) {

  /** Who a card is built for. */
  public enum Segment {
    DATACENTER,
    CONSUMER,
    EDGE
  }

  /** The family token shared by the model's signatures, such as {@code a100}. */
  String family() {
    return signatures.get(0).stream()
        .filter(t -> !t.endsWith("gb"))
        .sorted()
        .findFirst()
        .orElse(key);
  }
}
