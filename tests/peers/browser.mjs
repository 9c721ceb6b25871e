// The person at the browser, for sign-in tests: Debian's Chromium, driven headless by
// playwright-core. mcpauth runs it as its browser (MCPAUTH_BROWSER) with the
// authorization URL as the last argument.
//
//   node browser.mjs [--decline] [--report PATH] URL
//
// It signs in on the provider's login page (oidc-provider's built-in one: any name and
// password), approves the consent page (or, with --decline, aborts it), and waits until
// the browser lands on mcpauth's loopback redirect and shows its answer. Exits 0 then,
// 1 with the reason on stderr otherwise (including after 60 s).
//
// With --report, it also takes a screenshot of mcpauth's page (PATH.png) and writes what a
// reader would see of it to PATH.json: the heading, the text, the text's size in CSS
// pixels, the contrast ratio of text to background (WCAG 2), and whether it fits the
// window without scrolling sideways.

import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const decline = args.includes('--decline');
const reportAt = args.indexOf('--report');
const report = reportAt >= 0 ? args[reportAt + 1] : undefined;
const url = args.filter((a, i) => !a.startsWith('--') && a !== report).pop();
if (!url) {
  console.error('browser.mjs: no URL given');
  process.exit(2);
}

const say = (m) => console.error(`browser.mjs: ${m}`);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // Root in CI needs --no-sandbox; the rest keeps Chromium off the (closed) network.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
// WCAG 2's relative luminance of a CSS `rgb(a)` color over white, and the contrast ratio.
const luminance = (css) => {
  const [r, g, b, a = 1] = css.match(/[\d.]+/g).map(Number);
  const channel = (c) => {
    const s = (c * a + 255 * (1 - a)) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
};
const contrast = (fg, bg) => {
  const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

async function describe(page, path) {
  await page.screenshot({ path: `${path}.png`, fullPage: true });
  const seen = await page.evaluate(() => {
    const p = document.querySelector('p') ?? document.body;
    const style = getComputedStyle(p);
    const bodyBg = getComputedStyle(document.body).backgroundColor;
    return {
      title: document.title,
      heading: document.querySelector('h1')?.textContent ?? '',
      text: document.body.innerText,
      fontSizePx: parseFloat(style.fontSize),
      color: style.color,
      background: bodyBg,
      fitsWidth: document.documentElement.scrollWidth <= window.innerWidth,
    };
  });
  seen.contrast = contrast(seen.color, seen.background);
  await import('node:fs').then((fs) => fs.writeFileSync(`${path}.json`, JSON.stringify(seen)));
}

let code = 1;
try {
  const page = await browser.newPage();
  // Only this machine: the provider's page imports a web font that cannot be had here.
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return ['127.0.0.1', 'localhost', '[::1]'].includes(host) ? route.continue() : route.abort();
  });
  const deadline = Date.now() + 60_000;
  await page.goto(url);
  // Each step submits a form and waits for the page that answers it.
  const submit = async (selector) => {
    const before = page.url();
    await Promise.all([
      page.waitForURL((u) => u.href !== before, { waitUntil: 'load', timeout: deadline - Date.now() }),
      page.click(selector),
    ]);
  };
  for (let step = 0; step < 10 && Date.now() < deadline; step++) {
    const here = new URL(page.url());
    if (here.hostname === '127.0.0.1' && here.pathname === '/callback') {
      say(`landed on the redirect: ${(await page.textContent('body'))?.trim().slice(0, 80)}`);
      if (report) await describe(page, report);
      code = 0;
      break;
    }
    if (await page.locator('input[name=login]').count()) {
      say('signing in');
      await page.fill('input[name=login]', 'alice');
      await page.fill('input[name=password]', 'secret');
      await submit('button[type=submit]');
    } else if (await page.locator('input[name=prompt][value=consent]').count()) {
      say(decline ? 'declining' : 'approving');
      await submit(decline ? 'a[href$="/abort"]' : 'button[type=submit]');
    } else {
      say(`a page with nothing to do: ${page.url()}`);
      break;
    }
  }
  if (code !== 0) say(`did not reach the redirect; last page ${page.url()}`);
} catch (e) {
  say(`failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(code);
