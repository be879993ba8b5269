package io.gpumarket.market;

import java.util.function.Supplier;

/**
 * Why a request cannot be placed now.
 *
 * @param reason a machine-readable reason, for conditions and events
 * @param message what a person can act on
 */
public record Refusal(Reason reason, String message) implements Decision {

  /** Why an offer was turned down; declared in the order the market checks. */
  public enum Reason {
    NoSuchOffer,
    NoOfferForModel,
    CurrencyMismatch,
    TenantNotAdmitted,
    OfferSuspended,
    PriceAboveCap,
    LeaseDurationOutOfRange,
    NoQualifyingNode,
    InsufficientCapacity
  }

  /**
   * One offer turned down, and why. The words are put together when read: a refusal looks at many
   * offers and names a few.
   */
  public record Rejection(OfferState offer, Reason reason, Supplier<String> explanation) {
    public Rejection(OfferState offer, Reason reason, String detail) {
      this(offer, reason, () -> detail);
    }

    /** Why the offer was turned down, in words. */
    public String detail() {
      return explanation.get();
    }
  }
}
