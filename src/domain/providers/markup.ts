/** The operator's markup on an upstream's hourly price: basis points of it (rounded half up) plus a fixed amount. */
export interface Markup {
  bps: number;
  fixedMicros: bigint;
}

export function sellPrice(upstreamMicros: bigint, markup: Markup): bigint {
  return upstreamMicros + (upstreamMicros * BigInt(markup.bps) + 5_000n) / 10_000n + markup.fixedMicros;
}

/** A per-type markup where the operator set one, else the provider's. */
export function effectiveMarkup(
  provider: { markupBps: number; markupFixedMicros: bigint },
  offer: { markupBps: number | null; markupFixedMicros: bigint | null },
): Markup {
  return {
    bps: offer.markupBps ?? provider.markupBps,
    fixedMicros: offer.markupFixedMicros ?? provider.markupFixedMicros,
  };
}
