// The match-cut editor page: no framework, no build step. Every /v1/editor/ call carries the API token (asked for
// once, kept in sessionStorage) as a bearer token; pictures and previews are fetched the same way and shown from
// blob URLs.

const TOKEN_KEY = 'mediamesh.editor.token';
const LONG_POLL_SECONDS = 20;
const STATUS_REFRESH_MS = 3000;
const PROGRESS_POLL_MS = 500;

const $ = (id) => document.getElementById(id);

const state = {
  titles: [],
  pairs: [],
  statusTimer: undefined,
  runId: 0,
  objectUrls: [],
};

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------------- token and API

const getToken = () => sessionStorage.getItem(TOKEN_KEY);

function showMessage(text, kind = 'error') {
  const el = $('message');
  el.textContent = text;
  el.className = kind === 'info' ? 'info' : '';
  el.hidden = !text;
}

function askForToken(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  $('app').hidden = true;
  $('forget-token').hidden = true;
  $('token-form').hidden = false;
  $('token').value = '';
  $('token').focus();
  if (reason) showMessage(reason);
}

/** fetch with the bearer token; 401 → ask for the token again. Non-2xx → ApiError with the server's message. */
async function api(path, init = {}) {
  const token = getToken();
  if (!token) {
    askForToken('enter the API token first');
    throw new ApiError(401, 'no API token');
  }
  const res = await fetch(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
  if (res.status === 401) {
    askForToken('the API token was refused: enter it again');
    throw new ApiError(401, 'the API token was refused');
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = (await res.json()).error ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

async function apiJson(path, init) {
  const res = await api(path, init);
  return { status: res.status, body: await res.json() };
}

async function blobUrl(path) {
  const res = await api(path);
  const url = URL.createObjectURL(await res.blob());
  state.objectUrls.push(url);
  return { url, res };
}

/** At most `n` picture requests in flight (the server decodes each with ffmpeg). */
function limiter(n) {
  let active = 0;
  const waiting = [];
  const next = () => {
    if (active >= n || waiting.length === 0) return;
    active++;
    const { task, resolve, reject } = waiting.shift();
    task()
      .then(resolve, reject)
      .finally(() => {
        active--;
        next();
      });
  };
  return (task) =>
    new Promise((resolve, reject) => {
      waiting.push({ task, resolve, reject });
      next();
    });
}
const pictureQueue = limiter(4);

// ---------------------------------------------------------------------------------------------- formatting

/** 83.4 s → 01:23.40 (minutes:seconds.hundredths), as the CLI prints it. */
function timecode(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - 60 * m;
  return `${String(m).padStart(2, '0')}:${s.toFixed(2).padStart(5, '0')}`;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'class') node.className = v;
    else node[k] = v;
  }
  for (const c of children) node.append(c);
  return node;
}

// ---------------------------------------------------------------------------------------------- titles

function selectedTitles() {
  return [...document.querySelectorAll('#titles input[type=checkbox]:checked')].map((i) => i.value);
}

async function loadTitles() {
  const { body } = await apiJson('/v1/editor/titles');
  state.titles = body.titles;
  const box = $('titles');
  for (const old of box.querySelectorAll('label')) old.remove();
  for (const t of body.titles) {
    const input = el('input', { type: 'checkbox', value: t.id, name: 'title' });
    input.addEventListener('change', onSelectionChange);
    box.append(
      el(
        'label',
        { dataset: { title: t.id } },
        input,
        ` ${t.name ?? t.id} `,
        el('span', { class: 'hint' }, `(${t.assets})`),
      ),
    );
  }
  $('titles-empty').hidden = body.titles.length > 0;
  const flavor = $('flavor');
  flavor.replaceChildren(...body.flavors.map((f) => el('option', { value: f, textContent: f })));
  $('k').max = String(body.maxK);
  onSelectionChange();
}

function onSelectionChange() {
  $('run').disabled = selectedTitles().length === 0;
  refreshStatus();
}

// ---------------------------------------------------------------------------------------------- status

async function refreshStatus() {
  clearTimeout(state.statusTimer);
  const titles = selectedTitles();
  $('status-empty').hidden = titles.length > 0;
  if (titles.length === 0) {
    $('status-titles').replaceChildren();
    return;
  }
  let body;
  try {
    ({ body } = await apiJson(`/v1/editor/status?titles=${titles.map(encodeURIComponent).join(',')}`));
  } catch (err) {
    if (err.status !== 401) showMessage(`status: ${err.message}`);
    return;
  }
  if (selectedTitles().join(',') !== titles.join(',')) return; // the selection changed meanwhile
  renderStatus(body.titles);
  if (body.titles.some((t) => t.totals.running + t.totals.pending > 0)) {
    state.statusTimer = setTimeout(refreshStatus, STATUS_REFRESH_MS);
  }
}

function renderStatus(titles) {
  const blocks = titles.map((t) => {
    const head = el('h3', {}, t.titleId, ' ');
    const block = el('div', { class: 'title-status', dataset: { title: t.titleId } }, head);
    if (!t.found) {
      head.append(el('span', { class: 'hint' }, 'no title workflow: nothing has landed through the mesh'));
      return block;
    }
    const { done, running, pending, failed } = t.totals;
    head.append(
      el(
        'span',
        { class: 'hint' },
        `${t.assets} asset(s) · ${done} done · ${running} running · ${pending} pending · ${failed} failed`,
      ),
    );
    const rows = t.features.map((f) => {
      const s = f.failed
        ? 'failed'
        : f.running
          ? 'running'
          : f.pending
            ? 'pending'
            : f.done
              ? 'done'
              : 'pending';
      const cell = el('td', { class: `state state-${s}` }, `${s} ${f.done}/${f.total}`);
      if (f.lastError) cell.title = f.lastError;
      return el('tr', { dataset: { feature: f.feature, state: s } }, el('td', {}, f.feature), cell);
    });
    block.append(
      el(
        'table',
        {},
        el('thead', {}, el('tr', {}, el('th', {}, 'feature'), el('th', {}, 'state (done/assets)'))),
        el('tbody', {}, ...rows),
      ),
    );
    return block;
  });
  $('status-titles').replaceChildren(...blocks);
}

// ---------------------------------------------------------------------------------------------- the query

function showProgress(p) {
  $('progress').hidden = false;
  const bar = $('progress-bar');
  if (!p) {
    bar.removeAttribute('value');
    $('progress-text').textContent = 'starting…';
    return;
  }
  bar.max = Math.max(1, p.total);
  bar.value = p.done;
  const phase = p.phase === 'features' ? 'shots → representations' : p.phase;
  $('progress-text').textContent = `${phase} ${p.done}/${p.total}`;
}

async function pollProgress(id, runId) {
  while (state.runId === runId) {
    try {
      const { body } = await apiJson(`/v1/editor/matchcut/${id}/progress`);
      if (state.runId === runId) showProgress(body.progress);
    } catch {
      // the next poll may succeed; the run's own request reports failures
    }
    await new Promise((r) => setTimeout(r, PROGRESS_POLL_MS));
  }
}

async function run() {
  const titles = selectedTitles();
  const flavor = $('flavor').value;
  const k = Number($('k').value);
  const runId = ++state.runId;
  showMessage('');
  $('run').disabled = true;
  showProgress(null);
  const ask = (wait) =>
    apiJson('/v1/editor/matchcut', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ titles, flavor, k, wait }),
    });
  try {
    let r = await ask(0);
    if (r.status === 202) {
      showProgress(r.body.progress);
      pollProgress(r.body.id, runId);
      while (r.status === 202) r = await ask(LONG_POLL_SECONDS);
    }
    if (state.runId !== runId) return;
    showProgress({ phase: 'done', done: 1, total: 1 });
    renderAnswer(r.body);
  } catch (err) {
    if (err.status !== 401) showMessage(`match cuts: ${err.message}`);
    $('progress').hidden = true;
  } finally {
    if (state.runId === runId) state.runId++; // stops the progress poll
    $('run').disabled = selectedTitles().length === 0;
    refreshStatus();
  }
}

// ---------------------------------------------------------------------------------------------- pairs

function sideFigure(side, frame, label) {
  const img = el('img', { alt: `${label}: ${side.title} shot ${side.shot}, frame ${frame}`, width: 320 });
  img.dataset.frame = String(frame);
  pictureQueue(() => blobUrl(`/v1/editor/frame?asset=${side.asset}&frame=${frame}&width=320`))
    .then(({ url }) => {
      img.src = url;
    })
    .catch((err) => {
      img.alt = `${label}: ${err.message}`;
      img.dataset.error = err.message;
    });
  const caption = el(
    'figcaption',
    {},
    el('strong', {}, `${label} · ${side.title}`),
    ` · shot #${side.shot} · frames [${side.frames[0]}, ${side.frames[1]}) · `,
    el('span', { class: 'timecode' }, `${timecode(side.seconds[0])}–${timecode(side.seconds[1])}`),
    el('br'),
    `${label === 'A' ? 'last' : 'first'} frame ${frame} · asset ${side.asset.slice(0, 12)}`,
  );
  return el('figure', { class: `side side-${label.toLowerCase()}` }, img, caption);
}

const spanOf = (side) => `${side.asset}:${side.frames[0]}-${side.frames[1]}`;

function previewBlock(pair) {
  const button = el('button', { type: 'button', class: 'preview-button' }, 'preview the cut');
  const box = el('div', { class: 'preview' }, button);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'making the preview…';
    try {
      const { url, res } = await blobUrl(`/v1/editor/preview?a=${spanOf(pair.a)}&b=${spanOf(pair.b)}`);
      const video = el('video', {
        controls: true,
        muted: true,
        autoplay: true,
        playsInline: true,
        loop: true,
      });
      video.dataset.seconds = res.headers.get('x-preview-seconds') ?? '';
      // Autoplay is only allowed muted; the controls unmute it.
      video.dataset.sound = res.headers.get('x-preview-sound') ?? 'no';
      video.title =
        video.dataset.sound === 'yes' ? 'muted: unmute in the controls to hear the cut' : 'no sound';
      video.src = url;
      box.append(video);
      button.hidden = true;
    } catch (err) {
      button.disabled = false;
      button.textContent = 'preview the cut';
      if (err.status !== 401) showMessage(`preview: ${err.message}`);
    }
  });
  return box;
}

function renderAnswer(result) {
  for (const url of state.objectUrls.splice(0)) URL.revokeObjectURL(url);
  const answer = result.answer;
  state.pairs = answer.pairs;
  $('results').hidden = false;
  $('summary').textContent =
    `${answer.pairs.length} pairs (k=${answer.k}) by ${answer.feature}@${answer.version} over ${answer.shots} shots ` +
    `of ${answer.titles.join(', ')} · ${answer.method} · ${answer.ms.toFixed(0)} ms` +
    `${result.memoHit ? ' · memo hit' : ''}` +
    (answer.skipped.length
      ? ` · skipped: ${answer.skipped.map((s) => `${s.titleId} (${s.reason})`).join('; ')}`
      : '');
  const items = answer.pairs.map((p, i) =>
    el(
      'li',
      {
        class: 'pair',
        dataset: { rank: String(i + 1), score: String(p.score), a: spanOf(p.a), b: spanOf(p.b) },
      },
      el(
        'div',
        { class: 'pair-head' },
        el('span', { class: 'rank' }, `#${i + 1}`),
        el('span', { class: 'score' }, p.score.toFixed(4)),
        el('span', { class: 'hint' }, `${p.a.title} → ${p.b.title}`),
      ),
      el(
        'div',
        { class: 'sides' },
        sideFigure(p.a, p.a.frames[1] - 1, 'A'),
        sideFigure(p.b, p.b.frames[0], 'B'),
        previewBlock(p),
      ),
    ),
  );
  $('pairs').replaceChildren(...items);
  const slider = $('min-score');
  const scores = answer.pairs.map((p) => p.score);
  const lo = scores.length ? Math.min(...scores) : 0;
  const hi = scores.length ? Math.max(...scores) : 1;
  slider.min = String(Math.floor(lo * 10000) / 10000);
  slider.max = String(Math.ceil(hi * 10000) / 10000);
  slider.value = slider.min;
  applyFilter();
}

function applyFilter() {
  const min = Number($('min-score').value);
  $('min-score-value').textContent = min.toFixed(4);
  let shown = 0;
  for (const li of document.querySelectorAll('#pairs .pair')) {
    li.hidden = Number(li.dataset.score) < min;
    if (!li.hidden) shown++;
  }
  $('shown').textContent = `showing ${shown} of ${state.pairs.length}`;
}

// ---------------------------------------------------------------------------------------------- start

async function start() {
  $('token-form').hidden = true;
  try {
    await loadTitles();
  } catch (err) {
    if (err.status !== 401) showMessage(`titles: ${err.message}`);
    return;
  }
  showMessage('');
  $('app').hidden = false;
  $('forget-token').hidden = false;
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
});
$('forget-token').addEventListener('click', () => askForToken(''));
$('run').addEventListener('click', run);
$('min-score').addEventListener('input', applyFilter);

if (getToken()) start();
else askForToken('');
