/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(
  `^(${METRIC_NAME})(?:\\{(.*)\\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)(?: -?[0-9]+)?$`,
);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Parses the Prometheus text format (version 0.0.4) strictly: every line
 * must be a `# HELP`, a `# TYPE` with a known type, a sample or blank.
 * prom-client writes NaN as `Nan`, which Prometheus accepts.
 * @throws Error naming the first line of another kind.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line === '' || line.startsWith('# HELP ')) {
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , , type] = line.split(' ');
      if (!TYPES.has(type)) {
        throw new Error(`line ${index + 1}: unknown metric type in "${line}"`);
      }
      return;
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) {
      throw new Error(`line ${index + 1}: not a sample: "${line}"`);
    }
    samples.push({
      name: match[1],
      labels: parseLabels(match[2] ?? '', index + 1),
      value: parseValue(match[3]),
    });
  });
  return samples;
}

/** Parses a sample value as Go's `strconv.ParseFloat` does for this format: `NaN` in any case. */
function parseValue(text: string): number {
  if (text.toLowerCase() === 'nan') {
    return NaN;
  }
  return Number(text.replace('Inf', 'Infinity'));
}

function parseLabels(text: string, lineNumber: number): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const match = LABEL.exec(text);
    if (!match || match.index !== start) {
      throw new Error(`line ${lineNumber}: invalid labels "${text}"`);
    }
    labels[match[1]] = match[2];
  }
  return labels;
}

/** Returns the value of the one sample with this name and these labels, 0 when absent. */
export function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(
        ([key, value]) => sample.labels[key] === value,
      ),
  );
  if (found.length > 1) {
    throw new Error(
      `${found.length} samples of ${name} match ${JSON.stringify(labels)}`,
    );
  }
  return found[0]?.value ?? 0;
}
