// The finrisk-cache dashboard page. Plain JavaScript, no build step: it is served as it is
// written. Every piece of data (keys, values, cells, names) reaches the document as a text node
// (textContent, createTextNode); nothing is ever parsed as HTML, and the Content-Security-Policy
// allows only this script and uPlot to run.
(() => {
  'use strict';

  // ------------------------------------------------------------------ helpers

  /** An element with properties and children; strings become text nodes, never markup. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'className') node.className = value;
      else if (key === 'text') node.textContent = String(value);
      else if (key === 'onClick') node.addEventListener('click', value);
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key === 'title' || key === 'type' || key === 'disabled' || key === 'colSpan') node[key] = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const $ = (id) => document.getElementById(id);

  /** Replaces an element's children; null and false are left out, strings become text nodes. */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
    return node;
  }

  /** A table: `columns` are {title, num?, className?}; each row is an array of strings or nodes. */
  function table(columns, rows) {
    return h(
      'table',
      {},
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { className: c.num ? 'num' : undefined }, c.title)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell, i) => {
        const c = columns[i] || {};
        const styled = cell !== null && typeof cell === 'object' && !(cell instanceof Node);
        const cls = [c.num ? 'num' : '', c.className || '', styled && cell.className ? cell.className : ''].filter(Boolean).join(' ') || undefined;
        return h('td', { className: cls }, styled ? cell.text : cell);
      })))),
    );
  }

  const pct = (ratio) => (ratio === null || ratio === undefined ? 'n/a' : `${(ratio * 100).toFixed(2)}%`);
  const count = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : 'n/a');
  const ms = (v) => (v === null || v === undefined ? 'n/a' : v < 10 ? `${v.toFixed(2)} ms` : `${Math.round(v)} ms`);
  function bytes(n) {
    if (typeof n !== 'number') return 'n/a';
    if (n < 1024) return `${n}B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(2)}KB`;
    return `${(n / 1024 / 1024).toFixed(2)}MB`;
  }
  function ttl(seconds) {
    if (seconds === null || seconds === undefined) return 'unknown';
    if (seconds === -1) return 'no expiry';
    if (seconds < 0) return 'missing';
    const d = Math.floor(seconds / 86400);
    const hr = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return [d ? `${d}d` : '', hr ? `${hr}h` : '', m ? `${m}m` : '', s || (!d && !hr && !m) ? `${s}s` : ''].filter(Boolean).join(' ');
  }
  const time = (t) => new Date(t).toLocaleTimeString();
  const ago = (t) => {
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    return s < 60 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
  };

  async function getJson(path) {
    const res = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) {
      const message = body && body.error ? body.error.message : `${res.status} ${res.statusText}`;
      throw Object.assign(new Error(message), { status: res.status });
    }
    return body;
  }

  // ------------------------------------------------------------------ state

  const state = { info: null, samples: [], fleet: null, census: null, topology: null };
  const charts = {};
  let chartKinds = '';

  // ------------------------------------------------------------------ tabs

  function showTab() {
    const name = (location.hash || '#overview').slice(1);
    const known = ['overview', 'customers', 'frames', 'nodes'];
    const tab = known.includes(name) ? name : 'overview';
    for (const id of known) $(id).hidden = id !== tab;
    for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.tab === tab);
    if (tab === 'overview') resizeCharts();
    if (tab === 'frames' && !framesLoaded) loadFrames();
    if (tab === 'customers') $('customer-id').focus();
  }

  // ------------------------------------------------------------------ overview

  function renderHeader() {
    const info = state.info;
    const last = state.samples[state.samples.length - 1];
    const status = $('status');
    const value = last ? last.status : 'unknown';
    status.textContent = last ? (last.status === 'unhealthy' ? 'down' : last.status) : 'connecting…';
    status.className = `pill pill-${value}`;
    status.title = last && last.error ? last.error : '';
    if (info) {
      $('address').textContent = info.address;
      const mode = $('mode');
      mode.textContent = info.allowWrites ? 'clears allowed' : 'read-only';
      mode.className = `pill ${info.allowWrites ? 'pill-writes' : ''}`;
    }
    $('updated').textContent = last ? `updated ${time(last.t)}` : '';
  }

  function card(label, value, sub, extra) {
    return h('div', { className: 'card' }, h('div', { className: 'label' }, label), h('div', { className: 'value' }, value), sub ? h('div', { className: 'sub' }, sub) : null, extra || null);
  }

  function renderCards() {
    const s = state.samples[state.samples.length - 1];
    const info = state.info;
    if (!s || !info) return;
    const used = s.usedMemoryBytes;
    const max = s.maxMemoryBytes;
    const share = max > 0 ? used / max : null;
    const bar = share === null ? null : h('div', { className: `bar ${share > 0.9 ? 'hot' : ''}` }, h('div', { style: null }));
    if (bar) bar.firstChild.style.width = `${Math.min(100, share * 100).toFixed(1)}%`;
    fill($('cards'),
      card('Status', s.status === 'unhealthy' ? 'down' : s.status, s.error || `circuit ${s.circuit}`),
      card('Backend', info.backend, info.address),
      card('Memory', bytes(used), max > 0 ? `of ${bytes(max)} maxmemory (${pct(share)}), ${s.maxMemoryPolicy}` : `no maxmemory, ${s.maxMemoryPolicy}`, bar),
      card('Server hit rate', pct(s.hitRate), `last ${state.info.refreshSeconds} s: ${pct(s.intervalHitRate)}`),
      card('Operations/s', s.opsPerSec === null ? 'n/a' : count(Math.round(s.opsPerSec)), 'commands processed by the server'),
      card('Keys', count(s.keys), `evicted ${count(s.evictedKeys)}, expired ${count(s.expiredKeys)}`),
      card('Latency', ms(s.latencyMs), `PING from the dashboard; ${count(s.connectedClients)} clients`),
      card('Server', s.serverVersion, `key prefix ${info.keyPrefix}`),
    );
  }

  function renderFleetNote() {
    const fleet = state.fleet;
    // The dashboard keeps the busiest services and kinds only (fleet-view.ts): say what was added up.
    const others = fleet
      ? [fleet.otherServices ? `${count(fleet.otherServices)} more services added up as (other services)` : '', fleet.otherKinds ? `${count(fleet.otherKinds)} more kinds added up as (other kinds)` : '']
          .filter(Boolean)
          .join('; ')
      : '';
    $('fleet-note').textContent = fleet
      ? `Read ${ago(fleet.at)}; ${fleet.instances} instance${fleet.instances === 1 ? '' : 's'}.${others ? ` ${others}.` : ''}${fleet.error ? ` Last read failed: ${fleet.error}` : ''}`
      : 'Not read yet.';
  }

  function renderFleet() {
    const fleet = state.fleet;
    const target = $('fleet');
    renderFleetNote();
    if (!fleet) return fill(target);
    const rows = [];
    for (const service of fleet.services) {
      for (const kind of Object.keys(service.byKind).sort()) {
        const k = service.byKind[kind];
        if (k.hits + k.misses + k.writes + k.l1Hits + k.l1Misses === 0) continue;
        const l1 = k.l1Hits + k.l1Misses > 0 ? `${pct(k.l1HitRate)} (${bytes(k.l1Bytes)})` : '-';
        rows.push([service.service, String(service.instances), kind, k.hits + k.misses > 0 ? pct(k.hitRate) : 'n/a', count(k.hits), count(k.misses), count(k.writes), count(k.errors), ms(k.operations ? k.totalLatencyMs / k.operations : null), l1]);
      }
    }
    if (rows.length === 0) {
      return fill(target, h('p', { className: 'muted' }, 'No SDK process published statistics in the last three intervals.'));
    }
    const cols = [
      { title: 'Service' }, { title: 'Instances', num: true }, { title: 'Kind' }, { title: 'Hit rate', num: true }, { title: 'Hits', num: true },
      { title: 'Misses', num: true }, { title: 'Writes', num: true }, { title: 'Errors', num: true }, { title: 'Avg latency', num: true }, { title: 'L1 hit rate (bytes)', num: true },
    ];
    const t = table(cols, rows);
    t.id = 'fleet-table';
    fill(target, t);
  }

  let renderedCensus = '';

  function renderCensusNote() {
    const census = state.census;
    $('census-note').textContent = census
      ? `Counted ${ago(census.at)} in ${(census.durationMs / 1000).toFixed(1)} s with SCAN; every ${state.info ? state.info.keysIntervalSeconds : '?'} s at most.${census.error ? ` Last count failed: ${census.error}` : ''}`
      : 'Counting (SCAN of the key prefix)…';
  }

  function renderCensus() {
    const census = state.census;
    renderCensusNote();
    if (!census) {
      fill($('census'));
      fill($('models'));
      return;
    }
    // Counts that did not change are not redrawn (a button about to be clicked stays where it is).
    const key = JSON.stringify([census.kinds, census.models, state.info && state.info.allowWrites]);
    if (key === renderedCensus) return;
    renderedCensus = key;
    const total = census.kinds.reduce((n, k) => n + k.keys, 0);
    fill($('census'), table([{ title: 'Kind' }, { title: 'Keys', num: true }], [...census.kinds.map((k) => [k.kind, count(k.keys)]), [h('strong', {}, 'total'), count(total)]]));
    const writes = state.info && state.info.allowWrites;
    fill($('models'),
      census.models.length === 0
        ? h('p', { className: 'muted' }, 'No model artifacts are cached.')
        : table(
            writes ? [{ title: 'Model' }, { title: '' }] : [{ title: 'Model' }],
            census.models.map((m) => (writes ? [m, h('button', { className: 'danger', type: 'button', onClick: () => confirmClear('model', m) }, 'Clear artifacts…')] : [m])),
          ),
    );
  }

  // ------------------------------------------------------------------ charts

  const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
  const SERVER_COLOR = '#111827';

  /** The kinds the fleet read in the history (bookkeeping kinds such as generation tokens have operations but no reads). */
  function kindsOf(samples) {
    const kinds = new Set();
    for (const s of samples) for (const [k, rate] of Object.entries(s.fleet || {})) if (rate.hitRate !== null) kinds.add(k);
    return [...kinds].sort();
  }

  function chartWidth(el) {
    return Math.max(280, Math.floor(el.clientWidth || el.parentElement.clientWidth || 600) - 4);
  }

  function makeChart(id, series, valueFormat, unit) {
    const el = $(id);
    el.replaceChildren();
    const opts = {
      width: chartWidth(el),
      height: 220,
      scales: { x: { time: true } },
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, value: (u, v) => (v === null || v === undefined ? '--' : valueFormat(v)) }))],
      axes: [{}, { size: 64, values: (u, splits, axis, space, incr) => splits.map((v) => axisValue(v, incr, unit)) }],
      legend: { show: true },
    };
    return new uPlot(opts, [[], ...series.map(() => [])], el);
  }

  /** An axis label with as many decimals as the step between labels needs. */
  function axisValue(v, incr, unit) {
    const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(incr || 1))));
    return `${v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}${unit}`;
  }

  function buildCharts() {
    const kinds = kindsOf(state.samples);
    const key = kinds.join('\u0000');
    if (charts.hitRate && key === chartKinds) return;
    for (const chart of Object.values(charts)) chart.destroy();
    chartKinds = key;
    const kindSeries = kinds.map((k, i) => ({ label: `fleet ${k}`, color: PALETTE[i % PALETTE.length] }));
    const num = (v) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toFixed(2)).toString());
    charts.hitRate = makeChart('chart-hit-rate', [{ label: 'server', color: SERVER_COLOR }, ...kindSeries], (v) => `${v.toFixed(2)}%`, '%');
    charts.memory = makeChart('chart-memory', [{ label: 'used', color: PALETTE[0] }, { label: 'maxmemory', color: PALETTE[1] }], (v) => `${v.toFixed(2)} MB`, '');
    charts.ops = makeChart('chart-ops', [{ label: 'server', color: SERVER_COLOR }, ...kindSeries], num, '');
    charts.latency = makeChart('chart-latency', [{ label: 'PING', color: SERVER_COLOR }, ...kindSeries], (v) => `${num(v)} ms`, '');
  }

  function updateCharts() {
    if (typeof uPlot !== 'function' || state.samples.length === 0) return;
    buildCharts();
    const samples = state.samples;
    const kinds = kindsOf(samples);
    const x = samples.map((s) => s.t / 1000);
    const perKind = (field, scale) => kinds.map((k) => samples.map((s) => (s.fleet && s.fleet[k] && s.fleet[k][field] !== null ? s.fleet[k][field] * scale : null)));
    const mb = (b) => b / 1024 / 1024;
    charts.hitRate.setData([x, samples.map((s) => (s.intervalHitRate === null ? null : s.intervalHitRate * 100)), ...perKind('hitRate', 100)]);
    charts.memory.setData([x, samples.map((s) => (s.status === 'unhealthy' ? null : mb(s.usedMemoryBytes))), samples.map((s) => (s.maxMemoryBytes > 0 ? mb(s.maxMemoryBytes) : null))]);
    charts.ops.setData([x, samples.map((s) => s.opsPerSec), ...perKind('opsPerSec', 1)]);
    charts.latency.setData([x, samples.map((s) => s.latencyMs), ...perKind('latencyMs', 1)]);
  }

  function resizeCharts() {
    for (const [name, chart] of Object.entries(charts)) {
      const el = $({ hitRate: 'chart-hit-rate', memory: 'chart-memory', ops: 'chart-ops', latency: 'chart-latency' }[name]);
      if (el && el.clientWidth) chart.setSize({ width: chartWidth(el), height: 220 });
    }
  }

  // ------------------------------------------------------------------ live updates

  function renderAll() {
    renderHeader();
    renderCards();
    renderFleet();
    renderCensus();
    renderTopology();
    updateCharts();
  }

  function connect() {
    const events = new EventSource('/api/events');
    // The server ends a stream when a newer page takes its slot: this page stops and says so.
    events.addEventListener('closed', (e) => {
      events.close();
      const status = $('status');
      status.textContent = 'disconnected';
      status.className = 'pill pill-unknown';
      status.title = JSON.parse(e.data).reason;
    });
    events.addEventListener('state', (e) => {
      Object.assign(state, JSON.parse(e.data));
      renderAll();
    });
    events.addEventListener('sample', (e) => {
      state.samples.push(JSON.parse(e.data));
      const keep = state.info ? Math.ceil(state.info.historySeconds / state.info.refreshSeconds) : 1800;
      if (state.samples.length > keep) state.samples.splice(0, state.samples.length - keep);
      renderHeader();
      renderCards();
      updateCharts();
    });
    events.addEventListener('fleet', (e) => {
      state.fleet = JSON.parse(e.data);
      renderFleet();
    });
    events.addEventListener('census', (e) => {
      state.census = JSON.parse(e.data);
      renderCensus();
    });
    events.addEventListener('topology', (e) => {
      state.topology = JSON.parse(e.data);
      renderTopology();
    });
    events.addEventListener('error', () => {
      const status = $('status');
      status.textContent = 'reconnecting…';
      status.className = 'pill pill-unknown';
      // A refusal (503 when the dashboard is busy) closes an EventSource for good: try again later.
      if (events.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
  }

  // ------------------------------------------------------------------ customer lookup

  async function lookUp() {
    const id = $('customer-id').value.trim();
    const out = $('customer-result');
    if (!id) return;
    fill(out, h('p', { className: 'muted' }, `Looking up ${id}…`));
    let data;
    try {
      data = await getJson(`/api/customer?id=${encodeURIComponent(id)}`);
    } catch (error) {
      return fill(out, h('p', { className: 'notice error' }, error.message));
    }
    renderCustomer(data);
  }

  function renderCustomer(data) {
    const out = $('customer-result');
    const entries = data.entries;
    const writes = state.info && state.info.allowWrites;
    const predictions = entries.filter((e) => e.kind === 'prediction');
    const features = entries.find((e) => e.kind === 'feature');
    const heading = h('h2', { id: 'customer-heading' }, `${data.customer}: ${predictions.length} prediction${predictions.length === 1 ? '' : 's'}, ${features ? 'features' : 'no features'}`);
    if (entries.length === 0 && !data.entriesOmitted) return fill(out, heading, h('p', { className: 'muted' }, `Nothing is cached for customer ${data.customer}.`));
    // An answer is at most data.limitBytes (customer-view.ts): what did not fit is said, not sent.
    const limit = bytes(data.limitBytes);
    const omitted = [
      data.valuesOmitted ? `${count(data.valuesOmitted)} value${data.valuesOmitted === 1 ? ' is' : 's are'} not shown: this answer reached its ${limit} limit.` : '',
      data.entriesOmitted ? `${count(data.entriesOmitted)} more entr${data.entriesOmitted === 1 ? 'y is' : 'ies are'} cached but not listed (a lookup lists at most 200 predictions and ${limit}).` : '',
      data.valuesOmitted || data.entriesOmitted ? `finrisk-cache inspect ${data.customer} lists them all; get-pred and get-feat print a value.` : '',
    ].filter(Boolean).join(' ');
    const omittedNote = omitted ? h('p', { className: 'notice', id: 'customer-omitted' }, omitted) : null;
    const summary = table(
      [{ title: 'Kind' }, { title: 'Model' }, { title: 'Expires in' }, { title: 'Cached at' }, { title: 'State' }, { title: 'Key', className: 'mono' }],
      entries.map((e) => [e.kind, e.model || '', ttl(e.ttlSeconds), e.cachedAt || '', { text: e.state, className: `state-${e.state}` }, e.key]),
    );
    summary.id = 'customer-entries';
    const actions = writes
      ? h(
          'div',
          { className: 'actions' },
          predictions.length ? h('button', { className: 'danger', type: 'button', onClick: () => confirmClear('predictions', data.customer) }, 'Clear predictions…') : null,
          features ? h('button', { className: 'danger', type: 'button', onClick: () => confirmClear('features', data.customer) }, 'Clear features…') : null,
        )
      : null;
    const details = entries.map((e) =>
      h(
        'div',
        { className: 'entry', dataset: { kind: e.kind, model: e.model || '' } },
        h('h3', {}, e.kind === 'prediction' ? `Prediction: ${e.model}` : 'Features'),
        h('div', { className: 'meta' }, h('span', {}, `expires in ${ttl(e.ttlSeconds)}`), h('span', {}, `cached at ${e.cachedAt || 'unknown'}`), h('span', { className: `state-${e.state}` }, e.state)),
        e.state === 'invalidated'
          ? h('p', { className: 'muted' }, 'A newer model generation: reads miss.')
          : e.state === 'corrupt'
            ? h('p', { className: 'notice error' }, `Stored but unreadable, so reads miss: ${e.error ? e.error.message : 'unknown reason'}`)
            : e.valueOmitted
              ? h('p', { className: 'muted' }, `Value not shown: this answer reached its ${limit} limit.`)
              : e.fields.some((f) => typeof f.ageSeconds === 'number')
                ? // Features written field by field: each one's age, since streaming features age apart from the batch ones.
                  table([{ title: 'Feature' }, { title: 'Value' }, { title: 'Age' }], e.fields.map((f) => [f.name, { text: f.text, className: 'cell' }, typeof f.ageSeconds === 'number' ? ttl(f.ageSeconds) : 'unknown']))
                : table([{ title: 'Field' }, { title: 'Value' }], e.fields.map((f) => [f.name, { text: f.text, className: 'cell' }])),
      ),
    );
    fill(out, heading, omittedNote, summary, actions, ...details);
  }

  // ------------------------------------------------------------------ data frames

  let framesLoaded = false;

  async function loadFrames() {
    framesLoaded = true;
    const list = $('frames-list');
    $('frames-note').textContent = 'Listing…';
    let data;
    try {
      data = await getJson('/api/frames');
    } catch (error) {
      $('frames-note').textContent = '';
      return fill(list, h('p', { className: 'notice error' }, error.message));
    }
    $('frames-note').textContent = `${data.frames.length} data frame${data.frames.length === 1 ? '' : 's'}${data.truncated ? ' (the first 1,000)' : ''}, listed ${time(Date.now())}`;
    if (data.frames.length === 0) return fill(list, h('p', { className: 'muted' }, 'No data frames are cached.'));
    const t = table(
      [{ title: 'Name' }, { title: 'Rows', num: true }, { title: 'Columns', num: true }, { title: 'Size', num: true }, { title: 'Expires in' }, { title: 'Written at' }],
      data.frames.map((f) => [h('button', { className: 'link', type: 'button', onClick: () => previewFrame(f.name) }, f.name), count(f.rows), String(f.columns), bytes(f.bytes), ttl(f.ttlSeconds), f.writtenAt]),
    );
    t.id = 'frames-table';
    fill(list, t);
  }

  async function previewFrame(name) {
    const out = $('frame-preview');
    fill(out, h('p', { className: 'muted' }, `Reading ${name}…`));
    let data;
    try {
      data = await getJson(`/api/frame?name=${encodeURIComponent(name)}`);
    } catch (error) {
      return fill(out, h('p', { className: 'notice error' }, error.message));
    }
    if (data.tooLarge) {
      return fill(
        out,
        h('p', { className: 'notice', id: 'frame-too-large' }, `${name} is too large to preview here: the dashboard previews frames of up to ${bytes(data.limitBytes)} once decoded (this one is ${bytes(data.bytes)} stored). Use finrisk-cache info-df ${name}, or get-df ${name} --rows 50.`),
      );
    }
    const f = data.frame;
    const writes = state.info && state.info.allowWrites;
    const schema = table(
      [{ title: 'Column' }, { title: 'Type' }, { title: 'Nulls', num: true }, { title: 'Bytes', num: true }],
      f.columns.map((c) => [c.name, c.type, count(c.nullCount), bytes(c.bytes)]),
    );
    schema.id = 'frame-schema';
    const rows = table(
      f.columns.map((c) => ({ title: c.name })),
      f.preview.map((row) => row.map((cell) => ({ text: cell, className: 'cell' }))),
    );
    rows.id = 'frame-rows';
    fill(out,
      h('h2', { id: 'frame-heading' }, `${f.name}: ${count(f.rows)} rows x ${count(f.totalColumns)} columns`),
      f.totalColumns > f.columns.length ? h('p', { className: 'notice' }, `The first ${f.columns.length} of ${count(f.totalColumns)} columns are shown.`) : null,
      h('div', { className: 'meta' }, h('span', {}, bytes(f.bytes)), h('span', {}, `${f.chunks} chunks, ${f.compression}`), h('span', {}, `written ${f.writtenAt}`), h('span', {}, `expires ${f.expiresAt || 'never'}`)),
      writes ? h('div', { className: 'actions' }, h('button', { className: 'danger', type: 'button', onClick: () => confirmClear('frame', f.name) }, 'Clear data frame…')) : null,
      h(
        'div',
        { className: 'preview-grid' },
        h('div', { className: 'panel' }, h('h2', {}, 'Schema'), schema),
        h('div', { className: 'panel scroll' }, h('h2', {}, `First ${f.preview.length} rows`), rows),
      ),
    );
  }

  // ------------------------------------------------------------------ nodes

  function health(ok, text) {
    return { text, className: ok ? 'health-ok' : 'health-bad' };
  }

  function renderTopology() {
    const t = state.topology;
    const out = $('topology');
    if (!t) return fill(out, h('p', { className: 'muted' }, 'Not read yet.'));
    if (t.kind === 'cluster') {
      return fill(out,
        h('h2', {}, `Redis Cluster: ${t.summary}`),
        h('p', { className: 'mono' }, t.address),
        table(
          [{ title: 'Node' }, { title: 'Role' }, { title: 'Health' }, { title: 'Used memory', num: true }, { title: 'Clients', num: true }],
          t.nodes.map((n) => [n.address, n.role, health(n.healthy, n.healthy ? 'ok' : 'unreachable'), bytes(n.usedMemoryBytes), count(n.connectedClients)]),
        ),
      );
    }
    if (t.kind === 'sentinel') {
      const servers = [...(t.master ? [t.master] : []), ...t.replicas];
      return fill(out,
        h('h2', {}, `Sentinel group ${t.masterName}`),
        h('p', { className: 'mono' }, t.address),
        t.agreed ? null : h('p', { className: 'notice error' }, 'The sentinels do not name the same master.'),
        h('h3', {}, 'Servers'),
        servers.length === 0
          ? h('p', { className: 'notice error' }, 'No sentinel named a master.')
          : table(
              [{ title: 'Server' }, { title: 'Role' }, { title: 'Flags' }, { title: 'Link' }, { title: 'Health' }],
              servers.map((s, i) => [s.address, i === 0 && t.master ? 'master' : 'replica', s.flags, s.linkStatus || '', health(s.healthy, s.healthy ? 'ok' : 'down')]),
            ),
        h('h3', {}, 'Sentinels'),
        table(
          [{ title: 'Sentinel' }, { title: 'Health' }, { title: 'Names master' }, { title: 'Quorum', num: true }, { title: 'Other sentinels', num: true }],
          t.sentinels.map((s) => [s.address, health(s.reachable, s.reachable ? 'ok' : `unreachable: ${s.error || ''}`), s.master || '', s.quorum === undefined ? '' : String(s.quorum), s.otherSentinels === undefined ? '' : String(s.otherSentinels)]),
        ),
      );
    }
    const ok = t.status !== 'unhealthy';
    return fill(out,
      h('h2', {}, t.kind === 'single' ? 'One Redis server' : 'Embedded store'),
      table([{ title: 'Address' }, { title: 'Health' }], [[t.address, health(ok, ok ? t.status : `down: ${t.error || ''}`)]]),
    );
  }

  // ------------------------------------------------------------------ clears

  const CLEAR_WORDS = {
    predictions: (name) => `every cached prediction of customer ${name}`,
    features: (name) => `the cached features of customer ${name}`,
    model: (name) => `every cached version of the artifacts of model ${name}`,
    frame: (name) => `the cached data frame ${name}`,
  };
  let pendingClear = null;

  function confirmClear(target, name) {
    pendingClear = { target, name };
    $('confirm-title').textContent = `Clear ${target === 'model' ? 'model artifacts' : target === 'frame' ? 'data frame' : target}`;
    $('confirm-text').textContent = `This deletes ${CLEAR_WORDS[target](name)} from the cache. It cannot be undone.`;
    $('confirm-label').textContent = `Type ${name} to confirm:`;
    $('confirm-input').value = '';
    $('confirm-ok').disabled = true;
    $('confirm-error').textContent = '';
    $('confirm').showModal();
    $('confirm-input').focus();
  }

  async function runClear() {
    const pending = pendingClear;
    const typed = $('confirm-input').value;
    if (!pending || typed !== pending.name) return;
    $('confirm-ok').disabled = true;
    let body = null;
    try {
      const res = await fetch('/api/clear', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ target: pending.target, name: pending.name, confirm: typed }),
      });
      body = await res.json();
      if (!res.ok) throw new Error(body && body.error ? body.error.message : `${res.status}`);
    } catch (error) {
      $('confirm-error').textContent = error.message;
      $('confirm-ok').disabled = false;
      return;
    }
    $('confirm').close();
    pendingClear = null;
    const previous = $('clear-result');
    if (previous) previous.remove();
    const message = h('p', { className: 'notice', id: 'clear-result' }, `Deleted ${body.deleted} key${body.deleted === 1 ? '' : 's'} (${body.scope}).`);
    if (pending.target === 'frame') {
      fill($('frame-preview'), message);
      loadFrames();
    } else if (pending.target === 'model') {
      fill($('models-message'), message);
    } else {
      await lookUp();
      $('customer-result').prepend(message);
    }
  }

  // ------------------------------------------------------------------ start

  function start() {
    window.addEventListener('hashchange', showTab);
    window.addEventListener('resize', resizeCharts);
    $('customer-id').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        lookUp();
      }
    });
    $('customer-go').addEventListener('click', lookUp);
    $('frames-refresh').addEventListener('click', loadFrames);
    $('confirm-input').addEventListener('input', () => {
      $('confirm-ok').disabled = !pendingClear || $('confirm-input').value !== pendingClear.name;
    });
    $('confirm-input').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        runClear();
      }
    });
    $('confirm-ok').addEventListener('click', runClear);
    $('confirm-cancel').addEventListener('click', () => $('confirm').close());
    $('confirm').addEventListener('close', () => {
      pendingClear = null;
    });
    // Ages ("read 12 s ago") move on between updates; the tables stay as they are (a click on one is not lost).
    setInterval(() => {
      renderFleetNote();
      renderCensusNote();
    }, 5000);
    showTab();
    connect();
  }

  start();
})();
