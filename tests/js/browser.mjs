// Debian's headless Chromium, driven by playwright-core, started as this machine allows: no sandbox (root), no
// GPU, and none of the background requests that a machine without internet would refuse.
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
