// Render benchmark of the map page: node bench_map.mjs URL WATCH_SECONDS
// Prints one JSON line: time from navigation to the map laid out and drawn,
// then, while live updates arrive, long tasks, frame gaps and the time to
// apply each update.
import { launch } from './browser.mjs';

const [url, watchArg] = process.argv.slice(2);
const watchS = Number(watchArg || 20);
const { context, close } = await launch();
try {
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript(() => {
    const b = { longtasks: [], frames: [] };
    window.__bench = b;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push({ start: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    let last = null;
    const frame = (t) => {
      if (last !== null) b.frames.push({ t, gap: t - last });
      last = t;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  await page.goto(url, { waitUntil: 'load' });
  // Polled with evaluate: waitForFunction would need 'unsafe-eval' under the page's CSP.
  for (const deadline = Date.now() + 120000; !(await page.evaluate(() => window.__nocmap && window.__nocmap.ready));) {
    if (Date.now() > deadline) throw new Error('the map was not drawn within 120 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const ready = await page.evaluate(() => ({
    renderMs: window.__nocmap.renderedMs,
    nodes: window.__nocmap_cy.nodes().length,
    edges: window.__nocmap_cy.edges().length,
    updatesBefore: window.__nocmap.applyMs.length,
    first: window.__nocmap.last,
    startMs: window.__nocmap.startMs,
    snapMs: window.__nocmap.firstSnapshotMs,
    nav: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd,
    t: performance.now(),
  }));
  if (process.env.BENCH_SCREENSHOT) await page.screenshot({ path: process.env.BENCH_SCREENSHOT });
  await page.waitForTimeout(watchS * 1000);
  const after = await page.evaluate((since) => {
    const b = window.__bench;
    const lt = b.longtasks.filter((x) => x.start >= since);
    const frames = b.frames.filter((f) => f.t >= since).map((f) => f.gap);
    return {
      longtasks: lt.length,
      longtaskMaxMs: Math.max(0, ...lt.map((x) => x.ms)),
      longtaskTotalMs: lt.reduce((s, x) => s + x.ms, 0),
      frames: frames.length,
      frameMaxMs: Math.max(0, ...frames),
      frameP95Ms: frames.slice().sort((a, c) => a - c)[Math.floor(frames.length * 0.95)] || 0,
      applyMs: window.__nocmap.applyMs.slice(),
      feed: window.__nocmap.feed,
      deltas: window.__nocmap.deltas,
      snapshots: window.__nocmap.snapshots,
      redrawMs: (window.__nocmap.renderMs || []).slice(),
    };
  }, ready.t);
  const apply = after.applyMs.slice(ready.updatesBefore);
  const sorted = apply.slice().sort((a, c) => a - c);
  console.log(JSON.stringify({
    renderMs: Math.round(ready.renderMs),
    domContentLoadedMs: Math.round(ready.nav || 0),
    scriptStartMs: Math.round(ready.startMs),
    snapshotArrivedMs: Math.round(ready.snapMs),
    firstUpdate: Object.fromEntries(Object.entries(ready.first || {}).map(([k, v]) => [k, Math.round(v)])),
    nodes: ready.nodes,
    edges: ready.edges,
    watchS,
    feed: after.feed,
    deltas: after.deltas,
    snapshots: after.snapshots,
    updates: apply.length,
    applyMedianMs: Math.round(sorted[Math.floor(sorted.length / 2)] || 0),
    applyMaxMs: Math.round(sorted[sorted.length - 1] || 0),
    redraws: after.redrawMs.length,
    redrawMaxMs: Math.round(Math.max(0, ...after.redrawMs)),
    longtasks: after.longtasks,
    longtaskMaxMs: Math.round(after.longtaskMaxMs),
    longtaskTotalMs: Math.round(after.longtaskTotalMs),
    frameP95Ms: Math.round(after.frameP95Ms),
    frameMaxMs: Math.round(after.frameMaxMs),
    errors,
  }));
} finally {
  await close();
}
