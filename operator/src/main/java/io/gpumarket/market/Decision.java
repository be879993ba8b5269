package io.gpumarket.market;

/** The market's answer to a request: a {@link Placement} or a {@link Refusal}. */
public sealed interface Decision permits Placement, Refusal {}
