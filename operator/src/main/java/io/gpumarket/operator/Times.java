package io.gpumarket.operator;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** RFC 3339 timestamps, as Kubernetes writes them. */
public final class Times {
  private Times() {}

  public static String format(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  /** With milliseconds, for times that deadlines of a few seconds are measured from. */
  public static String formatMillis(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.MILLIS));
  }

  public static Instant parse(String s) {
    return s == null ? null : Instant.parse(s);
  }
}
