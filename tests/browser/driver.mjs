// A headless Chromium driven by JSON commands, one per line on stdin; each
// answer is one JSON line on stdout: {"ok": value} or {"error": "..."}.
// Commands:
//   {"cmd":"goto","url":U}            load U, wait for the map to be drawn
//   {"cmd":"reload"}                  the same after a reload
//   {"cmd":"eval","expr":E}           value of the expression E in the page
//   {"cmd":"wait","expr":E,"timeout_ms":N}  poll E until truthy; its value
//   {"cmd":"drag","id":ID,"dx":X,"dy":Y}    drag a node with real mouse events
//   {"cmd":"click_node","id":ID}      click a node with the mouse
//   {"cmd":"screenshot","path":P}
//   {"cmd":"events"}                  dialogs seen and page errors so far
//   {"cmd":"close"}
import { createInterface } from 'node:readline';
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

async function run(c) {
  switch (c.cmd) {
    case 'goto':
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
      return seen;
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
