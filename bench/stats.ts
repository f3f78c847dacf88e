import * as hdr from 'hdr-histogram-js';

/** Percentiles of one HDR histogram, in milliseconds. */
export interface LatencyStats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Decodes histograms from `encodeIntoCompressedBase64` and adds them up. */
export function mergeHistograms(encoded: string[]): hdr.Histogram {
  const [first, ...rest] = encoded.map((text) =>
    hdr.decodeFromCompressedBase64(text),
  );
  for (const histogram of rest) {
    first.add(histogram);
  }
  return first;
}

/** Summarizes a histogram of microseconds as milliseconds. */
export function latencyStats(histogram: hdr.Histogram): LatencyStats {
  const ms = (micros: number) => Math.round(micros) / 1000;
  return {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
  };
}

/** Median of the defined values; `undefined` when there is none. */
export function median(
  values: (number | null | undefined)[],
): number | undefined {
  const known = values
    .filter(
      (value): value is number =>
        typeof value === 'number' && Number.isFinite(value),
    )
    .sort((a, b) => a - b);
  if (known.length === 0) {
    return undefined;
  }
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1
    ? known[middle]
    : (known[middle - 1] + known[middle]) / 2;
}
