// Launches Debian's Chromium through playwright-core: headless, no
// sandbox (we run as root inside a lab namespace), no background traffic,
// a fresh profile each time. NOCMAP_CHROMIUM_ARGS adds arguments
// (whitespace-separated), e.g. a certificate pin for the HTTPS test.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.NOCMAP_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'nocmap-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
      ...(process.env.NOCMAP_CHROMIUM_ARGS || '').split(/\s+/).filter(Boolean),
    ],
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}
