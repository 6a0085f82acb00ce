/**
 * Scrapes parsed with an independent Prometheus text-format parser (parse-prometheus-text-format,
 * output shaped as prom2json's), so the tests check what a real scraper would read, not what
 * prom-client meant to write. That parser merges a labelled histogram's samples into one and
 * drops their labels and counts, so histogram counts are read from the `_count` lines here,
 * after the parser has accepted the whole text.
 */
// The package ships no types: its output is described here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheusTextFormat = require('parse-prometheus-text-format') as (text: string) => MetricFamily[];

export interface Sample {
  readonly labels?: Record<string, string>;
  readonly value?: string;
  readonly buckets?: Record<string, string>;
  readonly count?: string;
  readonly sum?: string;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly Sample[];
}

export class Scrape {
  readonly families: ReadonlyMap<string, MetricFamily>;
  constructor(private readonly text: string) {
    this.families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    for (const f of this.families.values()) {
      for (const m of f.metrics) {
        for (const v of [m.value, m.count, m.sum, ...Object.values(m.buckets ?? {})]) {
          // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case.
          if (v !== undefined && !/^[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|inf|nan)$/i.test(v)) throw new Error(`${f.name}: ${v} is not a number`);
        }
      }
    }
  }

  family(name: string): MetricFamily {
    const f = this.families.get(name);
    if (!f) throw new Error(`metric ${name} not in the scrape`);
    return f;
  }

  /** The value of a gauge or counter sample whose labels include `labels` (0 when absent). */
  value(name: string, labels: Record<string, string> = {}): number {
    const s = this.family(name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    return s?.value === undefined ? 0 : Number(s.value);
  }

  /** A histogram's observation count, summed over samples whose labels include `labels`. */
  count(name: string, labels: Record<string, string> = {}): number {
    if (this.family(name).type !== 'HISTOGRAM') throw new Error(`${name} is not a histogram`);
    let total = 0;
    for (const line of this.text.split('\n')) {
      const m = /^(\w+)_count(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      if (Object.entries(labels).every(([k, v]) => found[k] === v)) total += Number(m[3]);
    }
    return total;
  }
}
