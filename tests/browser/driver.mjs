// A headless Chromium driven by JSON commands, one per line on stdin; each
// answer is one JSON line on stdout: {"ok": value} or {"error": "..."}.
// Commands:
//   {"cmd":"goto","url":U}            load U, wait for the map to be drawn
//   {"cmd":"reload"}                  the same after a reload
//   {"cmd":"eval","expr":E}           value of the expression E in the page
//   {"cmd":"wait","expr":E,"timeout_ms":N}  poll E until truthy; its value
//   {"cmd":"drag","id":ID,"dx":X,"dy":Y}    drag a node with real mouse events
//                                     (from its centre, or "at":[X,Y] px off it)
//   {"cmd":"click_node","id":ID}      click a node with the mouse
//   {"cmd":"screenshot","path":P}
//   {"cmd":"events"}                  dialogs seen and page errors so far
//   {"cmd":"events","reset":true}     the same, then forgotten
//   {"cmd":"open","url":U}            load U without waiting for the map
//   {"cmd":"fill","selector":S,"text":T}   type T into the field S (replacing it)
//   {"cmd":"press","selector":S,"key":K}   press key K in S (e.g. "Enter")
//   {"cmd":"click","selector":S}      click S with the mouse
//   {"cmd":"select","selector":S,"value":V}  choose option V of the <select> S
//   {"cmd":"click_edge","id":ID}      click an edge with the mouse (where no
//                                     node covers it; brought into view first)
//   {"cmd":"download","selector":S,"path":P}  click S, save the download it
//                                     starts to P; {name, bytes}
//   {"cmd":"network"}                 requests sent ({method, url}) and
//                                     responses >= 400 / failed requests
//   {"cmd":"network","reset":true}    the same, then forgotten
//   {"cmd":"viewport","width":W,"height":H}  resize the window
//   {"cmd":"profile_start"}           start the page's JavaScript CPU profiler
//   {"cmd":"profile_stop","path":P}   stop it, its profile written to P
//   {"cmd":"close"}
// NOCMAP_CPU_PROFILE (see profiledGoto) records a CPU profile of each goto.
import { createInterface } from 'node:readline';
import { statSync, writeFileSync } from 'node:fs';
import { launch } from './browser.mjs';

const { context, close } = await launch();
const page = context.pages()[0] || (await context.newPage());
const seen = { dialogs: [], errors: [], console: [] };
page.on('dialog', async (d) => {
  seen.dialogs.push(d.type() + ': ' + d.message());
  await d.dismiss().catch(() => {});
});
page.on('pageerror', (e) => seen.errors.push(String(e)));
page.on('console', (m) => {
  if (m.type() === 'error' || m.type() === 'warning') seen.console.push(m.type() + ': ' + m.text());
});
// Every request the page sends, every answer >= 400 and every request that
// failed without an answer (an aborted event stream on reload, say).
const net = { requests: [], bad: [], failed: [] };
// A copy of a log of lists (`seen`, `net`); with `reset`, its lists emptied.
function take(log, reset) {
  const out = JSON.parse(JSON.stringify(log));
  if (reset) {
    for (const list of Object.values(log)) list.length = 0;
  }
  return out;
}
page.on('request', (r) => net.requests.push({ method: r.method(), url: r.url() }));
page.on('response', (r) => {
  if (r.status() >= 400) net.bad.push({ status: r.status(), method: r.request().method(), url: r.url() });
});
page.on('requestfailed', (r) => {
  net.failed.push({ method: r.method(), url: r.url(), failure: (r.failure() || {}).errorText || '' });
});

const READY = 'window.__nocmap && window.__nocmap.ready';

// Polls the expression with page.evaluate (CDP evaluation, which the page's
// CSP allows; waitForFunction with a string would need 'unsafe-eval').
async function waitFor(expr, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await page.evaluate(expr);
      if (last) return last;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error('timed out; last value ' + JSON.stringify(last));
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Where a node is on the screen (page coordinates of its centre).
async function nodeOnScreen(id) {
  const p = await page.evaluate((id) => {
    const cy = window.__nocmap_cy;
    const n = cy.getElementById(id);
    if (n.empty()) return null;
    const r = n.renderedPosition();
    const box = cy.container().getBoundingClientRect();
    return { x: box.left + r.x, y: box.top + r.y };
  }, id);
  if (!p) throw new Error('no node ' + id);
  return p;
}

// NOCMAP_CPU_PROFILE=PREFIX: each goto records the page's JavaScript CPU
// profile from navigation to the map drawn (and one second more) into
// PREFIX.N.cpuprofile (Chrome DevTools' format). The profiler starts on
// a page of the same origin first, so the renderer that loads the map
// is the one profiled.
const PROFILE = process.env.NOCMAP_CPU_PROFILE;
let profiles = 0;
async function profiledGoto(c) {
  await page.goto(new URL('/css/map.css', c.url).href, { waitUntil: 'load' });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
  await cdp.send('Profiler.start');
  await page.goto(c.url, { waitUntil: 'load' });
  await waitFor(READY, c.timeout_ms || 60000);
  await new Promise((r) => setTimeout(r, 1000));
  const { profile } = await cdp.send('Profiler.stop');
  writeFileSync(PROFILE + '.' + profiles++ + '.cpuprofile', JSON.stringify(profile));
  await cdp.detach();
  return true;
}

// The profiler of profile_start / profile_stop (one at a time).
let profiler = null;

async function run(c) {
  switch (c.cmd) {
    case 'goto':
      if (PROFILE) return await profiledGoto(c);
      await page.goto(c.url, { waitUntil: 'load' });
      await waitFor(READY, c.timeout_ms || 60000);
      return true;
    case 'reload':
      await page.reload({ waitUntil: 'load' });
      await waitFor(READY, c.timeout_ms || 60000);
      return true;
    case 'eval':
      return await page.evaluate(c.expr);
    case 'wait':
      return await waitFor(c.expr, c.timeout_ms || 30000);
    case 'drag': {
      const p = await nodeOnScreen(c.id);
      if (c.at) {
        p.x += c.at[0];
        p.y += c.at[1];
      }
      await page.mouse.move(p.x, p.y);
      await page.mouse.down();
      const steps = 10;
      for (let i = 1; i <= steps; i++) {
        await page.mouse.move(p.x + (c.dx * i) / steps, p.y + (c.dy * i) / steps);
      }
      await page.mouse.up();
      return true;
    }
    case 'click_node': {
      // A real click; the page records the node it saw tapped. Retried a
      // few times: a click while the page redraws may not count as a tap.
      for (let i = 0; i < 4; i++) {
        const p = await nodeOnScreen(c.id);
        await page.mouse.move(p.x - 5, p.y - 5);
        await page.mouse.click(p.x, p.y, { delay: 30 });
        // Wait past the double-tap interval before trying again: two quick
        // clicks are a double-click (the page's neighbourhood view).
        for (let k = 0; k < 8; k++) {
          if ((await page.evaluate(() => window.__nocmap.lastTap)) === c.id) return i + 1;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const where = await page.evaluate((id) => ({
        at: window.__nocmap_cy.getElementById(id).renderedPosition(),
        box: window.__nocmap_cy.container().getBoundingClientRect().toJSON(),
        nodes: window.__nocmap_cy.nodes().map((n) => [n.data('kind'), n.renderedBoundingBox({ includeLabels: false })]),
        lastTap: window.__nocmap.lastTap,
      }), c.id);
      await page.screenshot({ path: '/tmp/click-failed.png' });
      throw new Error('clicking node ' + c.id + ' did not tap it: ' + JSON.stringify(where));
    }
    case 'screenshot':
      await page.screenshot({ path: c.path });
      return true;
    case 'events':
      return take(seen, c.reset);
    case 'network':
      return take(net, c.reset);
    case 'open':
      await page.goto(c.url, { waitUntil: 'load' });
      return true;
    case 'fill':
      await page.fill(c.selector, c.text);
      return true;
    case 'press':
      await page.press(c.selector, c.key);
      return true;
    case 'click':
      await page.click(c.selector);
      return true;
    case 'select':
      return await page.selectOption(c.selector, c.value);
    case 'click_edge': {
      // A point of the (straight) edge that no node covers: its midpoint
      // when free, else a point nearer one end. An edge not wholly in view
      // is brought into view first, as a user would pan to it.
      const p = await page.evaluate((id) => {
        const cy = window.__nocmap_cy;
        const e = cy.getElementById(id);
        if (e.empty()) return null;
        const bb = e.renderedBoundingBox();
        if (bb.x1 < 0 || bb.y1 < 0 || bb.x2 > cy.width() || bb.y2 > cy.height()) cy.fit(e.connectedNodes(), 80);
        const s = e.renderedSourceEndpoint();
        const t = e.renderedTargetEndpoint();
        const boxes = cy.nodes(':visible').map((n) => n.renderedBoundingBox({ includeLabels: false }));
        const free = (q) => !boxes.some((b) => q.x > b.x1 - 4 && q.x < b.x2 + 4 && q.y > b.y1 - 4 && q.y < b.y2 + 4);
        const at = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]
          .map((f) => ({ x: s.x + (t.x - s.x) * f, y: s.y + (t.y - s.y) * f }))
          .find(free);
        if (!at) return { covered: true };
        const box = cy.container().getBoundingClientRect();
        return { x: box.left + at.x, y: box.top + at.y };
      }, c.id);
      if (!p) throw new Error('no edge ' + c.id);
      if (p.covered) throw new Error('edge ' + c.id + ' is covered by nodes along its length');
      await page.mouse.move(p.x - 5, p.y - 5);
      await page.mouse.click(p.x, p.y, { delay: 30 });
      return true;
    }
    case 'download': {
      const [d] = await Promise.all([
        page.waitForEvent('download', { timeout: c.timeout_ms || 15000 }),
        page.click(c.selector),
      ]);
      const failure = await d.failure();
      if (failure) throw new Error('download failed: ' + failure);
      await d.saveAs(c.path);
      return { name: d.suggestedFilename(), bytes: statSync(c.path).size };
    }
    case 'viewport':
      await page.setViewportSize({ width: c.width, height: c.height });
      return true;
    case 'profile_start':
      if (profiler) throw new Error('the profiler is already running');
      profiler = await context.newCDPSession(page);
      await profiler.send('Profiler.enable');
      await profiler.send('Profiler.setSamplingInterval', { interval: 250 });
      await profiler.send('Profiler.start');
      return true;
    case 'profile_stop': {
      if (!profiler) throw new Error('the profiler is not running');
      const { profile } = await profiler.send('Profiler.stop');
      writeFileSync(c.path, JSON.stringify(profile));
      await profiler.detach();
      profiler = null;
      return true;
    }
    case 'close':
      return true;
    default:
      throw new Error('unknown command ' + c.cmd);
  }
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let c;
  let answer;
  try {
    c = JSON.parse(line);
    answer = { ok: (await run(c)) ?? null };
  } catch (e) {
    answer = { error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
  if (c && c.cmd === 'close') break;
}
await close();
process.exit(0);
