/* global window, document, EventSource, uPlot */
// The feedback dashboard: one view per server-sent event (/api/stream), rendered into tables
// and uPlot charts. Each chart container gets data-points = the number of plotted values,
// and window.__dashboard counts updates (the browser test reads both).
'use strict';

const COLORS = ['#2f6feb', '#e36209', '#1a7f37', '#8250df', '#bf3989', '#0a7ea4', '#9a6700', '#57606a'];
const charts = new Map();
const state = { updates: 0, points: {}, last: null };
window.__dashboard = state;

const pct = (x, digits = 2) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(digits)}%`);
const num = (x, digits = 0) =>
  x === null || x === undefined ? '–' : Number(x).toLocaleString('en', { maximumFractionDigits: digits });
const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const interval = (iv) => `${pct(iv.estimate)} <span class="ci">[${pct(iv.low)}, ${pct(iv.high)}]</span>`;
const time = (ms) => new Date(ms).toLocaleString();

function table(id, head, rows) {
  const el = document.getElementById(id);
  el.innerHTML =
    `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.length ? rows.map((r) => `<tr>${r.join('')}</tr>`).join('') : `<tr><td colspan="${head.length}" class="note">no data yet</td></tr>`}</tbody>`;
}

function rateRow(label, s) {
  return [
    `<td>${label}</td>`,
    `<td>${num(s.impressions)}</td>`,
    `<td>${interval(s.ctr)}</td>`,
    `<td>${interval(s.addToCartRate)}</td>`,
    `<td>${interval(s.conversion)}</td>`,
    `<td>${num(s.revenuePerMille, 2)}</td>`,
    `<td>${s.coverage === null ? `${num(s.distinctItems)} items` : `${pct(s.coverage)} (${num(s.distinctItems)})`}</td>`,
  ];
}
const RATE_HEAD = [
  '',
  'impressions',
  'CTR',
  'add-to-cart rate',
  'conversion',
  'revenue / 1000 imp.',
  'catalog coverage',
];

/** Creates or updates a uPlot chart; recreated when its series change. */
function plot(id, opts, data) {
  const el = document.getElementById(id);
  const points = data.slice(1).reduce((n, s) => n + s.filter((v) => v !== null && v !== undefined).length, 0);
  state.points[id] = points;
  el.dataset.points = String(points);
  const signature = JSON.stringify(opts.series.map((s) => s.label)) + (opts.signature || '');
  let chart = charts.get(id);
  if (!data[0].length) {
    if (chart) chart.chart.destroy();
    charts.delete(id);
    el.innerHTML = '<div class="empty">no data yet</div>';
    return;
  }
  if (chart && chart.signature === signature) {
    chart.chart.setData(data);
    return;
  }
  if (chart) chart.chart.destroy();
  el.innerHTML = '';
  const width = Math.max(400, el.clientWidth || 560);
  chart = { signature, chart: new uPlot({ width, height: 220, ...opts }, data, el) };
  charts.set(id, chart);
}

const lineSeries = (labels, fmt) =>
  labels.map((label, i) => ({
    label,
    stroke: COLORS[i % COLORS.length],
    width: 2,
    spanGaps: true,
    points: { show: true, size: 5 },
    value: (_u, v) => (v === null || v === undefined ? '–' : fmt(v)),
  }));

function renderMetrics(m) {
  const e = m.experiment;
  document.getElementById('experiment').textContent =
    `${e.id}: ${e.arms.map((a) => `${a.name} (${a.model}, ${Math.round(a.share * 100)}%)`).join(' · ')} — control ${e.control}`;
  document.getElementById('window-note').textContent = m.window.start
    ? `Sliding window of ${m.window.minutes} min of impression time, ${time(m.window.start)} – ${time(m.window.end)}; ` +
      `${Math.round(m.confidence * 100)}% intervals (Wilson; differences: Newcombe). Outcomes count toward the impression's time, ` +
      `so the newest buckets still grow for one attribution window. Catalog size ${num(m.catalogSize)}.`
    : 'No impressions yet.';
  table(
    'arms',
    RATE_HEAD.map((h, i) => (i === 0 ? 'arm' : h)),
    m.arms.map((a) =>
      rateRow(`<b>${esc(a.arm)}</b> <span class="ci">${esc(a.modelVersions.join(', '))}</span>`, a),
    ),
  );
  table(
    'comparisons',
    ['arm vs control', 'metric', 'difference', 'relative lift', 'p-value'],
    m.comparisons.map((c) => [
      `<td>${esc(c.arm)} vs ${esc(c.control)}</td>`,
      `<td>${c.metric}</td>`,
      `<td class="${c.significant ? (c.difference.estimate > 0 ? 'sig-up' : 'sig-down') : ''}">${interval(c.difference)}</td>`,
      `<td>${c.relativeLift === null ? '–' : pct(c.relativeLift, 1)}</td>`,
      `<td>${c.pValue < 0.0001 ? '<0.0001' : c.pValue.toFixed(4)}</td>`,
    ]),
  );
  table(
    'series',
    ['model version · arm', ...RATE_HEAD.slice(1)],
    m.series.map((s) => rateRow(`${esc(s.modelVersion)} · ${esc(s.arm)}`, s)),
  );
}

function renderTimeseries(ts) {
  const xs = ts.buckets.map((b) => b / 1000);
  const labels = ts.series.map((s) => `${s.modelVersion} · ${s.arm}`);
  const axes = (fmt) => [{}, { values: (_u, vals) => vals.map(fmt), size: 60 }];
  plot('chart-ctr', { series: [{}, ...lineSeries(labels, (v) => pct(v))], axes: axes((v) => pct(v, 1)) }, [
    xs,
    ...ts.series.map((s) => s.ctr),
  ]);
  plot(
    'chart-conversion',
    { series: [{}, ...lineSeries(labels, (v) => pct(v))], axes: axes((v) => pct(v, 1)) },
    [xs, ...ts.series.map((s) => s.conversion)],
  );
  plot('chart-impressions', { series: [{}, ...lineSeries(labels, (v) => num(v))] }, [
    xs,
    ...ts.series.map((s) => s.impressions),
  ]);
}

function renderModels(models) {
  const metricNames = [...new Set(models.flatMap((m) => Object.keys(m.metrics)))].sort();
  const main = metricNames.find((n) => /ndcg/i.test(n)) || metricNames[0];
  plot(
    'chart-models',
    {
      signature: main || '',
      series: [
        {},
        {
          label: main || 'offline metric',
          stroke: COLORS[0],
          width: 1,
          points: { show: true, size: 9 },
          value: (_u, v) => (v === null ? '–' : num(v, 4)),
        },
      ],
    },
    [models.map((m) => m.publishedAt / 1000), models.map((m) => (main ? (m.metrics[main] ?? null) : 0))],
  );
  table(
    'models',
    ['version', 'published', 'previous', 'items', ...metricNames],
    models
      .slice()
      .reverse()
      .map((m) => [
        `<td>${esc(m.modelVersion)}</td>`,
        `<td>${time(m.publishedAt)}</td>`,
        `<td>${esc(m.previousVersion || '–')}</td>`,
        `<td>${num(m.itemCount)}</td>`,
        ...metricNames.map((n) => `<td>${num(m.metrics[n], 4)}</td>`),
      ]),
  );
}

/** Aligns [time, value][] lists of several services on one x axis. */
function align(lists) {
  const xs = [...new Set(lists.flatMap((l) => l.map((p) => Math.round(p[0] / 1000))))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  return [
    xs,
    ...lists.map((l) => {
      const ys = xs.map(() => null);
      for (const [t, v] of l) ys[index.get(Math.round(t / 1000))] = v;
      return ys;
    }),
  ];
}

function renderOps(services) {
  const withLatency = services.find((s) => s.latency);
  if (withLatency) {
    const b = withLatency.latency.buckets;
    const counts = b.map(([, c], i) => (i === 0 ? c : c - b[i - 1][1]));
    const labels = b.map(([le]) =>
      le === null || le === Infinity || le === 'Infinity'
        ? '+Inf'
        : le >= 1
          ? `${le}s`
          : `${Math.round(le * 1000 * 10) / 10}ms`,
    );
    document.getElementById('latency-name').textContent =
      `${withLatency.service}: ${withLatency.latency.name}, requests per bucket`;
    plot(
      'chart-latency',
      {
        signature: labels.join(','),
        scales: { x: { time: false } },
        axes: [{ values: (_u, vals) => vals.map((v) => labels[v] ?? '') }, {}],
        series: [
          { label: '≤' },
          {
            label: 'requests',
            fill: 'rgba(47,111,235,0.35)',
            stroke: COLORS[0],
            paths: uPlot.paths.bars({ size: [0.8] }),
            points: { show: false },
          },
        ],
      },
      [labels.map((_, i) => i), counts],
    );
  } else plot('chart-latency', { series: [{}] }, [[]]);
  const lagged = services.filter((s) => s.lag.length);
  plot(
    'chart-lag',
    {
      series: [
        {},
        ...lineSeries(
          lagged.map((s) => s.service),
          (v) => num(v),
        ),
      ],
    },
    align(lagged.map((s) => s.lag)),
  );
  const flowing = services.filter((s) => s.throughput.length);
  plot(
    'chart-throughput',
    {
      series: [
        {},
        ...lineSeries(
          flowing.map((s) => s.service),
          (v) => num(v, 1),
        ),
      ],
    },
    align(flowing.map((s) => s.throughput)),
  );
  table(
    'services',
    ['service', 'metrics URL', 'up', 'lag', 'messages/s', 'latency histogram'],
    services.map((s) => [
      `<td>${esc(s.service)}</td>`,
      `<td>${esc(s.url)}</td>`,
      `<td>${s.up ? 'yes' : `no <span class="ci">${esc(s.error || '')}</span>`}</td>`,
      `<td>${s.lag.length ? num(s.lag[s.lag.length - 1][1]) : '–'}</td>`,
      `<td>${s.throughput.length ? num(s.throughput[s.throughput.length - 1][1], 1) : '–'}</td>`,
      `<td>${s.latency ? esc(s.latency.name) : '–'}</td>`,
    ]),
  );
}

function render(view) {
  state.last = view;
  renderMetrics(view.metrics);
  renderTimeseries(view.timeseries);
  renderModels(view.models);
  renderOps(view.ops);
  state.updates++;
  const status = document.getElementById('status');
  status.textContent = `live · updated ${new Date(view.generatedAt).toLocaleTimeString()}`;
  status.className = 'status live';
}

let source;
function connect() {
  if (source) source.close();
  const minutes = document.getElementById('window').value;
  source = new EventSource(minutes ? `api/stream?window=${encodeURIComponent(minutes)}` : 'api/stream');
  source.onmessage = (msg) => {
    try {
      render(JSON.parse(msg.data));
    } catch (err) {
      console.error('dashboard render failed', err);
    }
  };
  source.onerror = () => {
    const status = document.getElementById('status');
    status.textContent = 'reconnecting…';
    status.className = 'status down';
  };
}

document.getElementById('window').addEventListener('change', connect);
connect();
