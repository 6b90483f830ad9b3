// Debian's chromium driven by playwright-core (which downloads no browser of its own).
// Each launch gets a fresh temporary profile; every flag keeps it off the network.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Where the console tests save screenshots: docs/screenshots/ with UPDATE_SCREENSHOTS=1 (to
 * refresh the README's pictures), else a temporary directory, so a test run leaves the working
 * tree clean.
 */
export function screenshotDir(): string {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? join(import.meta.dirname, '../../docs/screenshots') : mkdtempSync(join(tmpdir(), 'portcullis-shots-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}
