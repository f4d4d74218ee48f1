// The endpoint's page (/debug/fiberleak/), also the sidecar's per-target
// view (/target?name=T): polls the fibers and leaks JSON and redraws.
'use strict';

(() => {
  const {el, clear, get} = FL;
  const target = new URLSearchParams(location.search).get('name');
  // Fibers the page asks the endpoint for (leak suspects first): beyond it
  // the endpoint sends counts by site ("groups") for the rest.
  const kFiberLimit = 10000;
  // Where the JSON is: the endpoint's own routes, or the sidecar's copy of
  // one target's latest scrape, which answers the same queries.
  const query = {fibers: `?stacks=shared&limit=${kFiberLimit}`, leaks: '?limit=500'};
  const targetApi = target && `api/targets/${encodeURIComponent(target)}`;
  const api = target
    ? {fibers: `${targetApi}/fibers${query.fibers}`, leaks: `${targetApi}/leaks${query.leaks}`}
    : {fibers: `../fibers${query.fibers}`, leaks: `../leaks${query.leaks}`, heap: '../pprof/heap?debug=1'};
  const links = target
    ? [['all targets', './'], ['fibers JSON', `${targetApi}/fibers`], ['leaks JSON', `${targetApi}/leaks`], ['targets JSON', 'api/targets'],
       ['findings JSON', 'api/findings'], ['metrics', 'metrics']]
    : [['pprof index', '../pprof/'], ['goroutine debug=1', '../pprof/goroutine?debug=1'],
       ['goroutine debug=2', '../pprof/goroutine?debug=2'], ['heap', '../pprof/heap?debug=1'],
       ['fibers JSON', '../fibers'], ['leaks JSON', '../leaks'], ['metrics', '../../metrics']];
  const kHistory = 150;  // samples kept for the charts (5 minutes at 2 s)

  let timer = null, running = false;
  const state = {paused: false, selected: null, byId: new Map(), history: [], heapShown: !!api.heap};
  const status = document.getElementById('status');
  const detail = document.getElementById('detail');
  const table = new FL.FiberTable(document.getElementById('fibers'), select);
  FL.tokenForm(document.getElementById('token-slot'));
  if (target) {
    document.getElementById('subject').textContent = `target ${target} (as last scraped)`;
    document.getElementById('home').setAttribute('href', './');
  }
  clear(document.getElementById('raw-links'), links.map(([t, href]) => el('a', {href}, t)));
  const pause = document.getElementById('pause');
  pause.addEventListener('click', () => {
    state.paused = !state.paused;
    pause.textContent = state.paused ? 'resume' : 'pause';
    pause.classList.toggle('on', state.paused);
    if (state.paused) clearTimeout(timer);
    else poll();
  });

  function select(f) {
    state.selected = f.id;
    FL.renderDetail(detail, f, state.byId, select);
  }

  function record(doc) {
    const now = Date.now();
    // All of them: from the counts by site when the endpoint sent only some.
    const blocked = doc.groups && doc.total > doc.fibers.length
      ? doc.groups.filter((g) => g.state === 'blocked').reduce((n, g) => n + g.fibers, 0)
      : doc.fibers.filter((f) => f.state === 'blocked').length;
    const c = doc.counters;
    const sample = {t: now, live: c ? c.fibers_live : doc.fibers.length, blocked, created: c ? c.fibers_created : null};
    const prev = state.history[state.history.length - 1];
    sample.rate = prev && prev.created !== null && sample.created !== null
      ? Math.max(0, (sample.created - prev.created) / ((now - prev.t) / 1000)) : c ? 0 : null;  // null: not counted
    state.history.push(sample);
    if (state.history.length > kHistory) state.history.shift();
    const series = (k) => state.history.map((s) => ({v: s[k]}));
    FL.sparkline(document.getElementById('chart-live'), 'live fibers ', series('live'));
    FL.sparkline(document.getElementById('chart-blocked'), 'blocked ', series('blocked'));
    FL.sparkline(document.getElementById('chart-created'), 'created / s ', series('rate'), (v) => (v === null ? '—' : v.toFixed(1)));
  }

  async function refresh() {
    const [fibersDoc, leaksDoc] = await Promise.all([get(api.fibers), get(api.leaks)]);
    state.byId = FL.prepareFibers(fibersDoc);
    record(fibersDoc);
    FL.renderVerdicts(document.getElementById('verdicts'), leaksDoc, state.byId, select);
    const parked = fibersDoc.fibers.filter((f) => f.parked && f.stack.length);
    document.getElementById('flame-note').textContent = fibersDoc.total > fibersDoc.fibers.length
      ? `(of the ${fibersDoc.fibers.length} fibers sent, leak suspects first)` : '';
    FL.flameGraph(document.getElementById('flame'),
        parked.map((f) => ({frames: f.stack.map((fr) => fr.function || fr.pc), weight: 1})),
        {id: 'flame-svg', unit: (w) => `${w} fibers`, onClick: (fn) => {
          table.setFilter('frame', fn);
          document.getElementById('fibers-section').scrollIntoView();
        }});
    // The heap profiler runs when fibers have heap figures (null otherwise).
    state.heapShown = state.heapShown && fibersDoc.fibers.some((f) => f.heap_live_bytes !== null);
    table.setData(fibersDoc.fibers, fibersDoc.total ?? fibersDoc.fibers.length, fibersDoc.groups);
    if (state.selected !== null) {
      const f = state.byId.get(state.selected);
      if (f) FL.renderDetail(detail, f, state.byId, select);
    }
    if (state.heapShown) {
      try {
        const stacks = FL.heapStacks(await get(api.heap, 'text'));
        document.getElementById('heap-flame-section').classList.remove('hidden');
        FL.flameGraph(document.getElementById('heap-flame'), stacks, {id: 'heap-flame-svg', unit: FL.bytes});
      } catch (e) {
        if (e.status === 404) state.heapShown = false;  // the heap profile is not served
        else throw e;
      }
    }
    return fibersDoc.total ?? fibersDoc.fibers.length;
  }

  async function poll() {
    if (running) return;  // resumed while a refresh is in flight: that one schedules the next
    running = true;
    document.body.dataset.busy = '1';  // the browser test waits for '0' after pausing
    clearTimeout(timer);
    const start = performance.now(), startedAt = Date.now();
    try {
      const n = await refresh();
      status.textContent = `${n} fibers, updated ${new Date().toLocaleTimeString()}`;
      status.classList.remove('error');
      document.body.dataset.refreshedAt = String(startedAt);  // when its data was asked for
    } catch (e) {
      status.textContent = e.message;
      status.classList.add('error');
    }
    // Every 2 s, or less often when a refresh itself is slow (100k fibers).
    running = false;
    document.body.dataset.busy = '0';
    const took = performance.now() - start;
    if (!state.paused) timer = setTimeout(poll, Math.max(2000, 3 * took));
  }
  poll();
})();
