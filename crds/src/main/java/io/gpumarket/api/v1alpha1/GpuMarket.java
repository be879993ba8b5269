package io.gpumarket.api.v1alpha1;

/** Names shared by every resource of the API. */
public final class GpuMarket {
  public static final String GROUP = "gpumarket.io";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;

  /** {@code kubectl get gpumarket -A} lists every resource of the market. */
  public static final String CATEGORY = "gpumarket";

  /** A positive decimal with at most six digits after the point, as prices are written. */
  public static final String DECIMAL_PATTERN = "^[0-9]{1,9}(\\.[0-9]{1,6})?$";

  /** A Go duration of hours, minutes and seconds ({@code 90m}, {@code 1h30m}, {@code 168h}). */
  public static final String DURATION_PATTERN = "^([0-9]{1,6}(h|m|s))+$";

  /** An ISO 4217 currency code. */
  public static final String CURRENCY_PATTERN = "^[A-Z]{3}$";

  private GpuMarket() {}
}
