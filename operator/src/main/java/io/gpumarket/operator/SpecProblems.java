package io.gpumarket.operator;

import io.gpumarket.api.v1alpha1.ComputeJobSpec;
import io.gpumarket.api.v1alpha1.GpuLeaseSpec;
import io.gpumarket.api.v1alpha1.GpuMarket;
import io.gpumarket.api.v1alpha1.GpuNodeSpec;
import io.gpumarket.api.v1alpha1.GpuOfferSpec;
import io.gpumarket.catalog.CatalogMatch;
import io.gpumarket.catalog.GpuCatalog;
import io.gpumarket.market.Durations;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What is wrong with a spec, in sentences for a status condition. The CRD schema and its CEL rules
 * refuse most of this at the API server; this catches what reaches the operator anyway (an API
 * server older than 1.25 ignores CEL, and models are checked against the catalog only here).
 */
public final class SpecProblems {
  private static final Pattern DECIMAL = Pattern.compile(GpuMarket.DECIMAL_PATTERN);
  private static final Pattern CURRENCY = Pattern.compile(GpuMarket.CURRENCY_PATTERN);

  private SpecProblems() {}

  public static List<String> of(GpuNodeSpec spec) {
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      return List.of("spec is missing");
    }
    require(problems, spec.provider, "spec.provider");
    require(problems, spec.nodeName, "spec.nodeName");
    if (spec.tier == null) {
      problems.add("spec.tier must be edge or datacenter");
    }
    if (spec.gpus == null) {
      problems.add("spec.gpus is missing");
    } else {
      model(problems, "spec.gpus.model", spec.gpus.model);
      count(problems, "spec.gpus.count", spec.gpus.count, 64);
    }
    if (spec.heartbeat != null && spec.heartbeat.graceSeconds <= spec.heartbeat.intervalSeconds) {
      problems.add("heartbeat.graceSeconds must be longer than heartbeat.intervalSeconds");
    }
    return problems;
  }

  public static List<String> of(GpuOfferSpec spec) {
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      return List.of("spec is missing");
    }
    require(problems, spec.provider, "spec.provider");
    model(problems, "spec.model", spec.model);
    price(problems, "spec.pricePerGpuHour", spec.pricePerGpuHour, true);
    currency(problems, "spec.currency", spec.currency);
    if (spec.gpus != null) {
      count(problems, "spec.gpus", spec.gpus, 100000);
    }
    if (spec.nodeSelector == null && (spec.nodeNames == null || spec.nodeNames.isEmpty())) {
      problems.add("an offer needs nodeSelector or nodeNames to say which GpuNodes it sells");
    }
    var min = duration(problems, "spec.minLeaseDuration", spec.minLeaseDuration);
    var max = duration(problems, "spec.maxLeaseDuration", spec.maxLeaseDuration);
    if (min != null && max != null && min.compareTo(max) > 0) {
      problems.add("minLeaseDuration must not be longer than maxLeaseDuration");
    }
    return problems;
  }

  public static List<String> of(GpuLeaseSpec spec) {
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      return List.of("spec is missing");
    }
    if (spec.gpus == null) {
      problems.add("spec.gpus is missing");
    } else {
      count(problems, "spec.gpus", spec.gpus, 4096);
      if (spec.gpusPerNode != null) {
        count(problems, "spec.gpusPerNode", spec.gpusPerNode, 64);
        if (spec.gpusPerNode > 0 && spec.gpus % spec.gpusPerNode != 0) {
          problems.add("gpus must be a multiple of gpusPerNode");
        }
      }
    }
    if (spec.offerRef == null && (spec.models == null || spec.models.isEmpty())) {
      problems.add("a lease needs offerRef, or models for the operator to choose an offer");
    }
    if (spec.models != null) {
      for (String m : spec.models) {
        model(problems, "spec.models", m);
      }
    }
    price(problems, "spec.maxPricePerGpuHour", spec.maxPricePerGpuHour, false);
    currency(problems, "spec.currency", spec.currency);
    ratio(problems, "spec.minUptimeRatio", spec.minUptimeRatio);
    duration(problems, "spec.duration", spec.duration);
    if (spec.duration != null && spec.endTime != null) {
      problems.add("give duration or endTime, not both");
    }
    if (spec.endTime != null) {
      try {
        Instant.parse(spec.endTime);
      } catch (DateTimeParseException e) {
        problems.add("spec.endTime \"" + spec.endTime + "\" is not an RFC 3339 time");
      }
    }
    return problems;
  }

  public static List<String> of(ComputeJobSpec spec) {
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      return List.of("spec is missing");
    }
    if (spec.gpu == null || spec.gpu.models == null || spec.gpu.models.isEmpty()) {
      problems.add("spec.gpu.models needs at least one GPU model");
    } else {
      for (String m : spec.gpu.models) {
        model(problems, "spec.gpu.models", m);
      }
      count(problems, "spec.gpu.perReplica", spec.gpu.perReplica, 64);
      ratio(problems, "spec.gpu.minUptimeRatio", spec.gpu.minUptimeRatio);
    }
    count(problems, "spec.replicas", spec.replicas, 512);
    price(problems, "spec.maxPricePerGpuHour", spec.maxPricePerGpuHour, false);
    currency(problems, "spec.currency", spec.currency);
    if (spec.template == null
        || spec.template.getSpec() == null
        || spec.template.getSpec().getContainers() == null
        || spec.template.getSpec().getContainers().isEmpty()) {
      problems.add("template.spec.containers needs at least one container");
    }
    if (spec.backoffLimit < 0) {
      problems.add("spec.backoffLimit must not be negative");
    }
    return problems;
  }

  /** Parses a price that {@link #of} has accepted; null stays null. */
  public static BigDecimal price(String text) {
    return text == null ? null : new BigDecimal(text);
  }

  private static void require(List<String> problems, String value, String field) {
    if (value == null || value.isBlank()) {
      problems.add(field + " is missing");
    }
  }

  private static void model(List<String> problems, String field, String key) {
    if (key == null || GpuCatalog.byKey(key).isPresent()) {
      if (key == null) {
        problems.add(field + " is missing");
      }
      return;
    }
    CatalogMatch match = GpuCatalog.resolve(key);
    problems.add(
        match
            .model()
            .map(
                m -> field + ": write the canonical key " + m.key() + " instead of \"" + key + "\"")
            .orElse(field + ": " + match.problem()));
  }

  private static void count(List<String> problems, String field, Integer n, int max) {
    if (n == null || n < 1 || n > max) {
      problems.add(field + " must be between 1 and " + max + ", not " + n);
    }
  }

  private static void price(List<String> problems, String field, String text, boolean required) {
    if (text == null) {
      if (required) {
        problems.add(field + " is missing");
      }
      return;
    }
    if (!DECIMAL.matcher(text).matches() || new BigDecimal(text).signum() <= 0) {
      problems.add(field + " \"" + text + "\" is not a positive decimal such as \"2.40\"");
    }
  }

  private static void currency(List<String> problems, String field, String text) {
    if (text != null && !CURRENCY.matcher(text).matches()) {
      problems.add(field + " \"" + text + "\" is not a three-letter ISO 4217 code such as USD");
    }
  }

  private static void ratio(List<String> problems, String field, Double ratio) {
    if (ratio != null && (ratio < 0 || ratio > 1)) {
      problems.add(field + " must be between 0 and 1, not " + ratio);
    }
  }

  private static java.time.Duration duration(List<String> problems, String field, String text) {
    if (text == null) {
      return null;
    }
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      problems.add(field + ": " + e.getMessage());
      return null;
    }
  }
}
