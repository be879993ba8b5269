package io.gpumarket.catalog;

import java.util.List;
import java.util.Optional;

/**
 * What a product name resolved to: one model, several candidates (the name is ambiguous), or
 * nothing.
 *
 * @param name the name as given
 * @param model the model, when exactly one fits
 * @param candidates the models the name could mean, when it is ambiguous
 */
public record CatalogMatch(String name, Optional<GpuModel> model, List<GpuModel> candidates) {

  public boolean found() {
    return model.isPresent();
  }

  /** A sentence for a status message when no single model fits. */
  public String problem() {
    if (found()) {
      return "";
    }
    if (!candidates.isEmpty()) {
      return "GPU name \""
          + name
          + "\" is ambiguous: it could be "
          + String.join(" or ", candidates.stream().map(GpuModel::key).toList())
          + "; name the memory size too";
    }
    return "unknown GPU model \""
        + name
        + "\": use a canonical key such as "
        + String.join(", ", GpuCatalog.EXAMPLE_KEYS)
        + " (the catalog lists every key)";
  }
}
