// The sidecar's page (/): its targets and the findings across them, each
// target opening the endpoint's page over the sidecar's copy of its data.
'use strict';

(() => {
  const {el, clear, get} = FL;
  const status = document.getElementById('status');
  const pause = document.getElementById('pause');
  const lifecycle = document.getElementById('lifecycle-filter');
  let paused = false, timer = null, findings = [];
  FL.tokenForm(document.getElementById('token-slot'));
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'resume' : 'pause';
    pause.classList.toggle('on', paused);
    if (paused) clearTimeout(timer);
    else poll();
  });
  lifecycle.addEventListener('change', drawFindings);

  const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '');
  const ago = (ms) => (ms ? `${FL.duration((Date.now() - ms) * 1e6)} ago` : 'never');

  function drawTargets(targets) {
    clear(document.querySelector('#targets-table tbody'), targets.map((t) => {
      const fibers = Object.values(t.fibers_by_state || {}).reduce((a, b) => a + b, 0);
      return el('tr', {class: t.up ? 'up' : 'down', 'data-target': t.name},
          el('td', {}, el('a', {href: `target?name=${encodeURIComponent(t.name)}`}, t.name), el('div', {class: 'muted small'}, t.url)),
          el('td', {}, el('span', {class: 'badge ' + (t.up ? 'up' : 'down')}, t.up ? 'up' : t.scrapes ? 'error' : 'pending')),
          el('td', {}, t.kind),
          el('td', {title: time(t.last_scrape_ms)}, ago(t.last_scrape_ms)),
          el('td', {class: 'num'}, t.up ? fibers : ''),
          el('td', {class: 'num'}, t.leak_suspects ?? ''),
          el('td', {class: 'error'}, t.error));
    }));
  }

  function drawFindings() {
    const want = lifecycle.value;
    const order = {new: 0, ongoing: 1, resolved: 2};
    const shown = findings.filter((f) => !want || f.lifecycle === want)
        .sort((a, b) => order[a.lifecycle] - order[b.lifecycle] || b.blocked_ns - a.blocked_ns);
    // At most kRows rows in the page: a target with 100k leaked fibers stays readable.
    const kRows = 500;
    document.getElementById('findings-count').textContent =
        `${shown.length} findings` + (shown.length > kRows ? ` (the first ${kRows} shown)` : '');
    clear(document.querySelector('#findings-table tbody'), shown.length ? shown.slice(0, kRows).map((f) =>
      el('tr', {class: 'leak-row ' + f.lifecycle, 'data-target': f.target, 'data-id': f.fiber_id},
          el('td', {}, el('span', {class: 'badge ' + f.lifecycle}, f.lifecycle)),
          el('td', {}, el('a', {href: `target?name=${encodeURIComponent(f.target)}`}, f.target)),
          el('td', {}, el('span', {class: 'badge ' + f.verdict}, f.verdict)),
          el('td', {}, `${f.fiber_id}${f.name ? ' ' + f.name : ''}`),
          el('td', {class: 'num'}, FL.duration(f.blocked_ns)),
          el('td', {class: 'site'}, f.site),
          el('td', {}, f.reason),
          el('td', {}, time(f.first_seen_ms)),
          el('td', {}, time(f.resolved_ms)))) : el('tr', {}, el('td', {colspan: 9, class: 'ok', id: 'no-findings'}, 'No findings.')));
  }

  async function poll() {
    clearTimeout(timer);
    try {
      const [targets, found] = await Promise.all([get('api/targets'), get('api/findings')]);
      drawTargets(targets.targets);
      findings = found.findings;
      drawFindings();
      status.textContent = `${targets.targets.length} targets, updated ${new Date().toLocaleTimeString()}`;
      status.classList.remove('error');
    } catch (e) {
      status.textContent = e.message;
      status.classList.add('error');
    }
    if (!paused) timer = setTimeout(poll, 2000);
  }
  poll();
})();
