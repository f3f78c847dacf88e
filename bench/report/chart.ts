import type { ServerSummary } from './summary.js';

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { top: 40, right: 200, bottom: 50, left: 70 };
const COLORS = ['#1f77b4', '#9467bd', '#2ca02c', '#d62728'];

/** Y axis range in ms, on a log scale. */
const Y_MIN_MS = 0.1;
const Y_MAX_MS = 1_000;

/**
 * Draws p50 (dashed) and p99 (solid) latency against offered rate for every
 * server, both axes logarithmic, as a standalone SVG document.
 */
export function latencyChart(servers: ServerSummary[], title: string): string {
  const points = servers.flatMap((server) => server.curve);
  const rates = points.map((point) => point.rate);
  const minRate = Math.min(...rates, 1_000);
  const maxRate = Math.max(...rates, 10_000);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;

  const x = (rate: number) =>
    MARGIN.left +
    ((Math.log10(rate) - Math.log10(minRate)) /
      (Math.log10(maxRate) - Math.log10(minRate))) *
      plotWidth;
  const y = (ms: number) => {
    const clamped = Math.min(Math.max(ms, Y_MIN_MS), Y_MAX_MS);
    return (
      MARGIN.top +
      (1 -
        (Math.log10(clamped) - Math.log10(Y_MIN_MS)) /
          (Math.log10(Y_MAX_MS) - Math.log10(Y_MIN_MS))) *
        plotHeight
    );
  };

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];

  for (const ms of [0.1, 1, 10, 100, 1000]) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${y(ms) + 4}" text-anchor="end">${ms} ms</text>`,
    );
  }
  for (const rate of niceRates(minRate, maxRate)) {
    parts.push(
      `<line x1="${x(rate)}" x2="${x(rate)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#eee"/>`,
      `<text x="${x(rate)}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${rate / 1000}k</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 10}" text-anchor="middle">offered rate (events/s, log scale)</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">latency (log scale, values above 1 s drawn at 1 s)</text>`,
  );

  servers.forEach((server, index) => {
    const color = COLORS[index % COLORS.length];
    for (const [key, dash] of [
      ['p99', ''],
      ['p50', ' stroke-dasharray="5 4"'],
    ] as const) {
      const line = server.curve
        .filter((point) => point[key] !== undefined)
        .map(
          (point) => `${x(point.rate).toFixed(1)},${y(point[key]!).toFixed(1)}`,
        );
      if (line.length > 0) {
        parts.push(
          `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${line.join(' ')}"/>`,
        );
      }
    }
    const legendY = MARGIN.top + 10 + index * 36;
    const legendX = MARGIN.left + plotWidth + 16;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${legendX + 30}" y="${legendY + 4}">${escape(server.label)}</text>`,
      `<text x="${legendX + 30}" y="${legendY + 18}" fill="#555">p99 solid, p50 dashed</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceRates(min: number, max: number): number[] {
  const candidates = [
    1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000,
  ];
  return candidates.filter((rate) => rate >= min && rate <= max);
}

function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
