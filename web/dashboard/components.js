// fiberleak dashboard: the pieces both pages use (the endpoint's page and
// the sidecar's). Plain DOM and SVG, no library: a table, a flame graph and
// sparklines are a few hundred lines, smaller than any library that does
// them, and nothing here needs a build step.
'use strict';

const FL = (() => {
  const SVG = 'http://www.w3.org/2000/svg';

  // --- DOM ------------------------------------------------------------------

  // el('div', {class: 'x', onclick: f}, child, 'text', ...)
  function el(tag, attrs, ...children) {
    const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function clear(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  }

  // --- fetching, with the token ----------------------------------------------

  // The token: the address's #token=... (never sent to a server) or what was
  // typed in after a 401, kept for this tab only.
  const kTokenKey = 'fiberleak.token';
  (function takeTokenFromFragment() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(kTokenKey, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
  })();

  class HttpError extends Error {
    constructor(status, url, text) {
      super(`HTTP ${status} from ${url}${text ? ': ' + text.trim() : ''}`);
      this.status = status;
    }
  }

  let askToken = null;  // set by tokenForm(): called on a 401

  async function get(url, as = 'json') {
    const headers = {};
    const token = sessionStorage.getItem(kTokenKey);
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(url, {headers, cache: 'no-store', credentials: 'omit'});
    if (!res.ok) {
      if (res.status === 401 && askToken) askToken();
      throw new HttpError(res.status, url, await res.text());
    }
    return as === 'json' ? res.json() : res.text();
  }

  // A form that appears when a route asks for the token.
  function tokenForm(container) {
    const input = el('input', {type: 'password', id: 'token-input', placeholder: 'token', autocomplete: 'off'});
    const form = el('form', {id: 'token-form', class: 'token-form hidden', onsubmit: (e) => {
      e.preventDefault();
      sessionStorage.setItem(kTokenKey, input.value);
      form.classList.add('hidden');
    }}, 'This server wants a token: ', input, el('button', {type: 'submit'}, 'use'));
    container.append(form);
    askToken = () => form.classList.remove('hidden');
  }

  // --- formatting -------------------------------------------------------------

  function duration(ns) {
    if (ns === null || ns === undefined || ns < 0) return '';
    const s = ns / 1e9;
    if (s < 1e-3) return (ns / 1e3).toFixed(0) + 'µs';
    if (s < 1) return (s * 1e3).toFixed(0) + 'ms';
    if (s < 120) return s.toFixed(1) + 's';
    if (s < 7200) return (s / 60).toFixed(1) + 'm';
    return (s / 3600).toFixed(1) + 'h';
  }

  function bytes(n) {
    if (n === null || n === undefined) return '';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
  }

  function place(fr) {
    return fr && fr.file ? `${fr.file}:${fr.line}` : '';
  }

  function frameText(fr) {
    if (!fr) return '';
    return fr.file ? `${fr.function} (${fr.file}:${fr.line})` : fr.function || fr.pc;
  }

  function labelsText(labels) {
    return Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join(' ');
  }

  // --- fibers ------------------------------------------------------------------

  // A fiberleak.fibers/v1 document with stacks=shared: each fiber gets its
  // stack arrays back, and the columns the table shows.
  function prepareFibers(doc) {
    const stacks = doc.stacks || [];
    const byId = new Map();
    for (const f of doc.fibers) {
      if (!f.stack) f.stack = stacks[f.stack_ref] || [];
      if (!f.creation_stack) f.creation_stack = stacks[f.creation_stack_ref] || [];
      f.site = f.site || '';  // the server's park site: what leak findings group by
      f.created_by = frameText(f.created_by);
      f.labels_text = labelsText(f.labels);
      f.parked = f.state === 'blocked' || f.state === 'sleeping';
      f.children = [];
      byId.set(f.id, f);
    }
    for (const f of doc.fibers) {
      const p = byId.get(f.parent);
      if (p) p.children.push(f.id);
    }
    return byId;
  }

  // The fibers table: sortable, filterable, grouped by park site on demand,
  // never more than kPageRows rows (or groups) in the DOM, so 100k fibers
  // stay usable.
  const kPageRows = 200;
  const kColumns = [
    {key: 'id', title: 'id', num: true},
    {key: 'name', title: 'name'},
    {key: 'state', title: 'state'},
    {key: 'wait_reason', title: 'wait reason'},
    {key: 'blocked_ns', title: 'blocked for', num: true, show: (f) => (f.parked ? duration(f.blocked_ns) : '')},
    {key: 'labels_text', title: 'labels'},
    {key: 'site', title: 'site'},
    {key: 'created_by', title: 'created by'},
    {key: 'heap_live_bytes', title: 'heap', num: true, show: (f) => bytes(f.heap_live_bytes)},
  ];
  const kTextFilters = ['name', 'wait_reason', 'labels_text', 'site', 'created_by', 'frame'];

  class FiberTable {
    constructor(container, onSelect) {
      this.onSelect = onSelect;
      this.fibers = [];
      this.sort = {key: 'blocked_ns', desc: true};
      this.filters = {};
      this.grouped = false;
      this.page = 0;
      const stateSelect = el('select', {id: 'filter-state', onchange: (e) => this.setFilter('state', e.target.value)},
          ['', 'blocked', 'sleeping', 'runnable', 'running', 'yielded'].map((s) => el('option', {value: s}, s || 'any state')));
      const inputs = kTextFilters.map((k) => {
        const title = k === 'labels_text' ? 'labels' : k === 'created_by' ? 'created by' : k.replace('_', ' ');
        return el('input', {id: 'filter-' + k, type: 'search', placeholder: title, title: 'filter: ' + title,
          oninput: (e) => this.setFilter(k, e.target.value)});
      });
      const minBlocked = el('input', {id: 'filter-min-blocked', type: 'number', min: 0, step: 'any',
        placeholder: 'blocked ≥ s', title: 'blocked for at least (seconds)',
        oninput: (e) => this.setFilter('min_blocked_s', e.target.value)});
      this.groupButton = el('button', {id: 'group-toggle', type: 'button', onclick: () => {
        this.grouped = !this.grouped;
        this.page = 0;
        this.render();
      }}, 'group by site');
      this.summary = el('span', {id: 'fiber-summary', class: 'muted'});
      this.prev = el('button', {type: 'button', id: 'page-prev', onclick: () => this.turn(-1)}, '‹');
      this.next = el('button', {type: 'button', id: 'page-next', onclick: () => this.turn(1)}, '›');
      this.body = el('tbody');
      this.head = el('thead');
      this.inputs = Object.fromEntries(kTextFilters.map((k, i) => [k, inputs[i]]));
      container.append(
          el('div', {class: 'filters'}, stateSelect, inputs, minBlocked, this.groupButton),
          el('div', {class: 'pager'}, this.summary, this.prev, this.next),
          el('div', {class: 'scroll'}, el('table', {id: 'fibers-table', class: 'fibers'}, this.head, this.body)));
    }

    // fibers: those the server sent; total and groups (counts by site of
    // all of them): what /debug/fibers?limit=N adds when it sent fewer.
    setData(fibers, total = fibers.length, groups = null) {
      this.fibers = fibers;
      this.total = total;
      this.serverGroups = total > fibers.length ? groups : null;
      this.render();
    }

    // One row per (state, wait reason, site) of the fibers that pass the filters;
    // when the server sent only some fibers, its counts of all, filtered by
    // the filters groups have (state, wait reason, site).
    groups(rows) {
      if (this.serverGroups) {
        const f = this.filters;
        const has = (v, want) => !want || String(v).toLowerCase().includes(want.toLowerCase());
        return this.serverGroups.filter((g) => (!f.state || g.state === f.state) && has(g.wait_reason, f.wait_reason) &&
            has(g.site, f.site)).map((g) => ({site: g.site, state: g.state, wait_reason: g.wait_reason,
          count: g.fibers, leaks: g.leaks, oldest: g.oldest_blocked_ns}));
      }
      const groups = new Map();
      for (const f of rows) {
        const k = `${f.state}\u0000${f.wait_reason}\u0000${f.site}`;
        let g = groups.get(k);
        if (!g) groups.set(k, g = {site: f.site, state: f.state, wait_reason: f.wait_reason, count: 0, oldest: 0, leaks: 0});
        g.count++;
        if (f.leak) g.leaks++;
        if (f.parked) g.oldest = Math.max(g.oldest, f.blocked_ns);
      }
      return [...groups.values()].sort((a, b) => b.count - a.count || b.oldest - a.oldest);
    }

    setFilter(key, value) {
      this.filters[key] = value;
      if (this.inputs[key] && this.inputs[key].value !== value) this.inputs[key].value = value;
      this.page = 0;
      this.render();
    }

    turn(delta) {
      this.page = Math.max(0, this.page + delta);
      this.render();
    }

    selected() {
      const f = this.filters;
      const text = kTextFilters.filter((k) => f[k]).map((k) => [k, f[k].toLowerCase()]);
      const minNs = f.min_blocked_s ? Number(f.min_blocked_s) * 1e9 : 0;
      return this.fibers.filter((fb) => {
        if (f.state && fb.state !== f.state) return false;
        if (minNs && !(fb.parked && fb.blocked_ns >= minNs)) return false;
        for (const [k, v] of text) {
          if (k === 'frame') {
            if (!fb.stack.some((fr) => (fr.function || '').toLowerCase() === v)) return false;
          } else if (!String(fb[k] || '').toLowerCase().includes(v)) {
            return false;
          }
        }
        return true;
      });
    }

    header(columns, sortable) {
      clear(this.head, el('tr', {}, columns.map((c) => {
        const mark = sortable && this.sort.key === c.key ? (this.sort.desc ? ' ▾' : ' ▴') : '';
        return el('th', {'data-key': c.key, class: sortable ? 'sortable' : null, onclick: sortable ? () => {
          this.sort = {key: c.key, desc: this.sort.key === c.key ? !this.sort.desc : !!c.num};
          this.render();
        } : null}, c.title + mark);
      })));
    }

    render() {
      const rows = this.selected();
      const {key, desc} = this.sort;
      const num = kColumns.find((c) => c.key === key)?.num;
      const cmp = num ? (a, b) => (a[key] ?? -1) - (b[key] ?? -1)
                      : (a, b) => String(a[key] ?? '').localeCompare(String(b[key] ?? ''));
      this.groupButton.textContent = this.grouped ? 'one row per fiber' : 'group by site';
      let items;
      if (this.grouped) {
        items = this.groups(rows);
      } else {
        items = rows.slice().sort((a, b) => (desc ? cmp(b, a) : cmp(a, b)) || a.id - b.id);
      }
      const pages = Math.max(1, Math.ceil(items.length / kPageRows));
      this.page = Math.min(this.page, pages - 1);
      const shown = items.slice(this.page * kPageRows, (this.page + 1) * kPageRows);
      const sent = this.total > this.fibers.length ? ` (the first ${this.fibers.length} of ${this.total} sent)` : '';
      this.summary.textContent = `${rows.length} of ${this.total} fibers${sent}` +
          (this.grouped ? ` in ${items.length} groups` : '') +
          (pages > 1 ? ` — page ${this.page + 1} of ${pages}` : '');
      this.prev.disabled = this.page === 0;
      this.next.disabled = this.page >= pages - 1;
      if (this.grouped) {
        this.header([{key: 'count', title: 'fibers'}, {key: 'leaks', title: 'leaked'}, {key: 'state', title: 'state'},
          {key: 'wait_reason', title: 'wait reason'}, {key: 'oldest', title: 'oldest blocked'},
          {key: 'site', title: 'site'}], false);
        clear(this.body, shown.map((g) => el('tr', {class: 'group' + (g.leaks ? ' leak' : ''), title: 'show these fibers',
          onclick: () => {
            this.grouped = false;
            this.filters.state = g.state;
            document.getElementById('filter-state').value = g.state;
            this.setFilter('site', g.site);
          }}, el('td', {class: 'num'}, g.count), el('td', {class: 'num'}, g.leaks || ''), el('td', {}, g.state),
          el('td', {}, g.wait_reason), el('td', {class: 'num'}, duration(g.oldest)), el('td', {class: 'site'}, g.site))));
      } else {
        this.header(kColumns, true);
        clear(this.body, shown.map((f) => el('tr', {'data-id': f.id, class: f.leak ? 'leak' : null,
          onclick: () => this.onSelect(f)}, kColumns.map((c) =>
          el('td', {class: (c.num ? 'num ' : '') + (c.key === 'site' || c.key === 'created_by' ? 'site' : '')},
              c.show ? c.show(f) : f[c.key] ?? '')))));
      }
    }
  }

  // --- a fiber's detail -----------------------------------------------------

  function stackList(frames) {
    if (!frames.length) return el('p', {class: 'muted'}, 'none recorded');
    return el('ol', {class: 'stack'}, frames.map((fr) => el('li', {},
        el('span', {class: 'fn'}, fr.function || fr.pc), fr.inlined ? el('span', {class: 'muted'}, ' (inlined)') : null,
        fr.file ? el('span', {class: 'place'}, ' ' + place(fr)) : null)));
  }

  // names: a fallback for fibers not in byId (id -> name, from the findings).
  function fiberLink(id, byId, onSelect, names) {
    const f = byId.get(id) || (names && names.has(id) ? {name: names.get(id)} : null);
    return el('a', {href: '#', class: 'fiber-link', onclick: (e) => {
      e.preventDefault();
      if (byId.has(id)) onSelect(byId.get(id));
    }}, f && f.name ? `${id} ${f.name}` : String(id));
  }

  function renderDetail(container, f, byId, onSelect) {
    const row = (k, v) => el('tr', {}, el('th', {}, k), el('td', {}, v));
    const children = f.children.slice(0, 50);
    clear(container,
        el('h3', {}, `fiber ${f.id}`, f.name ? ` “${f.name}”` : '', f.leak ? el('span', {class: 'badge leak'}, f.verdict) : null),
        el('table', {class: 'kv'},
            row('state', `${f.state}${f.wait_reason ? ' (' + f.wait_reason + ')' : ''}`),
            f.parked ? row('blocked for', duration(f.blocked_ns) + (f.blocked_exact ? '' : ' (at least)')) : null,
            f.leak ? row('why', f.reason) : null,
            row('labels', f.labels_text || '—'),
            row('parent', f.parent ? fiberLink(f.parent, byId, onSelect) : '—'),
            row('children', children.length ? children.flatMap((c, i) => [i ? ', ' : '', fiberLink(c, byId, onSelect)]) : '—'),
            f.waits_for ? row('waits for', fiberLink(f.waits_for, byId, onSelect)) : null,
            f.waits_on ? row('waits on', f.waits_on) : null,
            row('heap held', f.heap_live_bytes === null ? 'unknown (no heap profiler)' : bytes(f.heap_live_bytes)),
            row('stack reserved', bytes(f.stack_bytes)),
            row('thread', f.thread), row('parks', f.parks)),
        el('h4', {}, 'parked at'), stackList(f.stack),
        el('h4', {}, 'created at'), stackList(f.creation_stack));
    container.classList.remove('hidden');
  }

  // --- verdicts -------------------------------------------------------------

  // Leak findings first (definite before suspect), with reason, chain and
  // memory held; a deadlock's fibers drawn once as the cycle they form.
  const kVerdictRows = 50;  // rows of each verdict table in the DOM
  function renderVerdicts(container, leaksDoc, byId, onSelect) {
    const leaks = leaksDoc.leaks || [];
    const names = new Map(leaks.map((l) => [l.fiber_id, l.name]));
    const link = (id) => fiberLink(id, byId || new Map(), onSelect || (() => {}), names);
    if (!leaks.length) {
      clear(container, el('p', {class: 'ok', id: 'no-leaks'}, 'No leak findings.'));
      return;
    }
    const drawnCycles = new Set();
    const cycles = [];
    for (const l of leaks) {
      if (l.cycle && l.cycle.length) {
        const key = l.cycle.slice().sort((a, b) => a - b).join(',');
        if (!drawnCycles.has(key)) {
          drawnCycles.add(key);
          cycles.push(l.cycle);
        }
      }
    }
    const order = {definite: 0, suspect: 1};
    const sorted = leaks.slice().sort((a, b) => (order[a.verdict] ?? 2) - (order[b.verdict] ?? 2) || b.blocked_ns - a.blocked_ns);
    const shown = sorted.slice(0, kVerdictRows);
    const sites = leaksDoc.sites || [];
    clear(container,
        cycles.length ? el('div', {class: 'cycles'}, el('h3', {}, `Deadlocks (${cycles.length})`),
            cycles.map((c) => cycleDiagram(c, byId, link))) : null,
        el('h3', {}, `${leaksDoc.total ?? leaks.length} leaked fibers at ${sites.length} sites`),
        el('table', {class: 'verdicts', id: 'sites-table'},
            el('thead', {}, el('tr', {}, ['verdict', 'fibers', 'oldest', 'blocked for', 'site', 'why', 'primitives']
                .map((t) => el('th', {}, t)))),
            el('tbody', {}, sites.slice(0, kVerdictRows).map((g) => el('tr', {class: 'site-row ' + g.verdict},
                el('td', {}, el('span', {class: 'badge ' + g.verdict}, g.verdict)),
                el('td', {class: 'num'}, g.fibers.length),
                el('td', {}, g.oldest === null ? '' : link(g.oldest)),
                el('td', {class: 'num'}, duration(g.blocked_ns)),
                el('td', {class: 'site'}, g.site),
                el('td', {}, g.reason, g.growing ? el('div', {class: 'muted'}, g.growing) : null),
                el('td', {class: 'num'}, g.primitives || ''))))),
        el('h3', {}, 'Each leaked fiber', sorted.length > shown.length ? ` (the first ${shown.length})` : ''),
        el('table', {class: 'verdicts', id: 'leaks-table'},
            el('thead', {}, el('tr', {}, ['verdict', 'fiber', 'blocked for', 'site', 'why', 'chain', 'heap held']
                .map((t) => el('th', {}, t)))),
            el('tbody', {}, shown.map((l) => el('tr', {class: 'leak-row ' + l.verdict, 'data-id': l.fiber_id},
                el('td', {}, el('span', {class: 'badge ' + l.verdict}, l.verdict)),
                el('td', {}, link(l.fiber_id)),
                el('td', {class: 'num'}, duration(l.blocked_ns)),
                el('td', {class: 'site'}, l.site),
                el('td', {}, l.reason),
                el('td', {class: 'chain'}, chainText(l, link)),
                el('td', {class: 'num'}, l.heap_live_bytes === null ? '' : bytes(l.heap_live_bytes)))))));
  }

  function chainText(l, link) {
    if (l.cycle && l.cycle.length) {
      return ['cycle: ', l.cycle.flatMap((id, i) => [i ? ' → ' : '', link(id)]), ' → ', link(l.cycle[0])];
    }
    if (l.chain && l.chain.length > 1) return l.chain.flatMap((id, i) => [i ? ' waits for ' : '', link(id)]);
    return l.waits_on ? `waits on ${l.waits_on}` : '';
  }

  // The fibers of a cycle on a circle, each arrow "waits for" the next.
  function cycleDiagram(cycle, byId, link) {
    const n = cycle.length;
    const size = 220, r = 70, c = size / 2;
    const pos = cycle.map((_, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
      return [c + r * Math.cos(a), c + r * Math.sin(a)];
    });
    const svg = el('svg:svg', {class: 'cycle', width: size, height: size, viewBox: `0 0 ${size} ${size}`, role: 'img'},
        el('svg:defs', {}, el('svg:marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7,
          markerHeight: 7, orient: 'auto-start-reverse'}, el('svg:path', {d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead'}))));
    for (let i = 0; i < n; i++) {
      const [x1, y1] = pos[i], [x2, y2] = pos[(i + 1) % n];
      const dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy) || 1, k = 22 / len;
      svg.append(el('svg:line', {x1: x1 + dx * k, y1: y1 + dy * k, x2: x2 - dx * k, y2: y2 - dy * k,
        class: 'edge', 'marker-end': 'url(#arrow)'}));
    }
    cycle.forEach((id, i) => {
      const f = byId && byId.get(id);
      svg.append(el('svg:g', {class: 'node'}, el('svg:circle', {cx: pos[i][0], cy: pos[i][1], r: 20}),
          el('svg:text', {x: pos[i][0], y: pos[i][1] + 4, 'text-anchor': 'middle'}, id),
          el('svg:title', {}, f ? `${id} ${f.name} ${f.site}` : String(id))));
    });
    return el('figure', {class: 'cycle-figure'}, svg,
        el('figcaption', {}, cycle.flatMap((id, i) => [i ? ' waits for ' : '', link(id)]), ' waits for ', link(cycle[0])));
  }

  // --- flame graph ----------------------------------------------------------

  // stacks: [{frames: [leaf..root function names], weight}]. Drawn root at
  // the top (an icicle); a click on a frame calls onClick(function name).
  function flameGraph(container, stacks, {onClick, unit = (w) => `${w}`, id} = {}) {
    const root = {name: 'all', weight: 0, children: new Map()};
    for (const s of stacks) {
      root.weight += s.weight;
      let node = root;
      for (let i = s.frames.length - 1; i >= 0; i--) {
        const name = s.frames[i];
        let child = node.children.get(name);
        if (!child) node.children.set(name, child = {name, weight: 0, children: new Map()});
        child.weight += s.weight;
        node = child;
      }
    }
    const width = Math.max(300, container.clientWidth || 900), rowH = 17;
    let depth = 0;
    const rects = [];
    (function layout(node, x, level) {
      depth = Math.max(depth, level + 1);
      rects.push({node, x, level});
      let cx = x;
      for (const child of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        const w = (child.weight / root.weight) * width;
        if (w >= 0.5) layout(child, cx, level + 1);
        cx += w;
      }
    })(root, 0, 0);
    if (!root.weight) {
      clear(container, el('p', {class: 'muted'}, 'nothing to draw'));
      return;
    }
    const svg = el('svg:svg', {class: 'flame', id, width, height: depth * rowH, viewBox: `0 0 ${width} ${depth * rowH}`});
    for (const {node, x, level} of rects) {
      const w = (node.weight / root.weight) * width;
      const hue = 20 + (hash(node.name) % 40);
      const g = el('svg:g', {class: 'frame', 'data-function': node.name, onclick: () => onClick && node !== root && onClick(node.name)},
          el('svg:rect', {x, y: level * rowH, width: Math.max(w - 0.5, 0.5), height: rowH - 1, fill: `hsl(${hue},85%,62%)`}),
          el('svg:title', {}, `${node.name}: ${unit(node.weight)} (${((100 * node.weight) / root.weight).toFixed(1)}%)`));
      if (w > 30) {
        const chars = Math.floor((w - 6) / 6.5);
        g.append(el('svg:text', {x: x + 3, y: level * rowH + 12},
            node.name.length > chars ? node.name.slice(0, Math.max(chars - 1, 0)) + '…' : node.name));
      }
      svg.append(g);
    }
    clear(container, svg);
  }

  function hash(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return Math.abs(h);
  }

  // Go's heap?debug=1 text: in-use bytes by stack (function names, leaf first).
  function heapStacks(text) {
    const out = [];
    let current = null;
    for (const line of text.split('\n')) {
      const head = /^(\d+): (\d+) \[\d+: \d+\] @/.exec(line);
      if (head) {
        current = {weight: Number(head[2]), frames: []};
        if (current.weight > 0) out.push(current);
        continue;
      }
      const frame = /^#\s+0x[0-9a-f]+\s+(.+?)(?:\+0x[0-9a-f]+)?\s+\S+:\d+\s*$/.exec(line);
      if (frame && current) current.frames.push(frame[1]);
    }
    return out.filter((s) => s.frames.length);
  }

  // --- sparklines -----------------------------------------------------------

  // A small line chart of the last values of one series.
  function sparkline(container, title, points, format = (v) => String(Math.round(v))) {
    const w = 220, h = 44;
    const values = points.map((p) => p.v);
    const max = Math.max(1, ...values);
    const step = points.length > 1 ? w / (points.length - 1) : 0;
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(h - 2 - (p.v / max) * (h - 4)).toFixed(1)}`).join(' ');
    const last = values.length ? values[values.length - 1] : null;
    clear(container, el('div', {class: 'spark-title'}, title, el('b', {}, last === null ? '—' : format(last))),
        el('svg:svg', {class: 'spark', width: w, height: h, viewBox: `0 0 ${w} ${h}`},
            el('svg:path', {d: d || 'M0,0', class: 'spark-line'}),
            el('svg:title', {}, `max ${format(max)} over the last ${points.length} samples`)));
  }

  return {el, clear, get, tokenForm, duration, bytes, frameText, prepareFibers, FiberTable, renderDetail,
    renderVerdicts, flameGraph, heapStacks, sparkline, HttpError};
})();
