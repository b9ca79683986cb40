/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line is a HELP, a TYPE, a comment or a
 * sample; a sample belongs to a family whose TYPE came first (histograms: _bucket with `le`, _sum, _count; the
 * buckets cumulative and +Inf equal to _count); label values escaped as the format says; no sample twice. Throws
 * with the line on the first violation. Returns each sample's value by its series key (`name{a="x",b="y"}`, labels
 * sorted).
 */

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// NaN and Inf in any case, as Prometheus reads them (Go's ParseFloat); prom-client writes an empty mean as 'Nan'.
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?[iI][nN][fF]|[nN][aA][nN])';
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL_NAME}=${LABEL_VALUE})(?:,${LABEL_NAME}=${LABEL_VALUE})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`,
);
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const PAIR = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, 'g');

export type Samples = Map<string, number>;

export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export function parseExposition(text: string): Samples {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const samples: Samples = new Map();
  const histograms = new Map<string, Map<string, { buckets: Array<[number, number]>; count?: number }>>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const help = HELP.exec(line);
    if (help) continue;
    const type = TYPE.exec(line);
    if (type) {
      if (types.has(type[1]!)) throw new Error(`TYPE given twice: ${line}`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const p of (labelText ?? '').matchAll(PAIR)) {
      if (p[1]! in labels) throw new Error(`label given twice: ${line}`);
      labels[p[1]!] = JSON.parse(p[2]!);
    }
    const lower = valueText.toLowerCase();
    const value = lower.endsWith('inf')
      ? lower.startsWith('-')
        ? -Infinity
        : Infinity
      : lower === 'nan'
        ? NaN
        : Number(valueText);
    const family = familyOf(name, types);
    if (!family) throw new Error(`sample before its TYPE: ${line}`);
    const key = seriesKey(name, labels);
    if (samples.has(key)) throw new Error(`sample given twice: ${line}`);
    samples.set(key, value);
    if (types.get(family) === 'histogram') {
      const { le, ...rest } = labels;
      const series = seriesKey(family, rest);
      const byFamily = histograms.get(family) ?? new Map();
      histograms.set(family, byFamily);
      const h = byFamily.get(series) ?? { buckets: [] };
      byFamily.set(series, h);
      if (name === `${family}_bucket`) {
        if (le === undefined) throw new Error(`bucket without le: ${line}`);
        h.buckets.push([le === '+Inf' ? Infinity : Number(le), value]);
      } else if (name === `${family}_count`) h.count = value;
      else if (name !== `${family}_sum`) throw new Error(`not a histogram sample: ${line}`);
    }
  }
  for (const [family, bySeries] of histograms) {
    for (const [series, h] of bySeries) {
      const last = h.buckets.at(-1);
      if (!last || last[0] !== Infinity || last[1] !== h.count)
        throw new Error(`${series} (${family}): the +Inf bucket must be last and equal _count`);
      for (let i = 1; i < h.buckets.length; i++) {
        if (h.buckets[i]![0] <= h.buckets[i - 1]![0] || h.buckets[i]![1] < h.buckets[i - 1]![1])
          throw new Error(`${series}: buckets must rise`);
      }
    }
  }
  return samples;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const family = name.slice(0, -suffix.length);
      if (types.get(family) === 'histogram' || types.get(family) === 'summary') return family;
    }
  }
  return undefined;
}
