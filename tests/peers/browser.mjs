// The person at the browser, for sign-in tests: Debian's Chromium, driven headless by
// playwright-core. mcpauth runs it as its browser (MCPAUTH_BROWSER) with the
// authorization URL as the last argument.
//
//   node browser.mjs [--decline] [--report PATH] [--elsewhere] [--user-code CODE] URL
//
// It signs in on the provider's login page (oidc-provider's built-in one: any name and
// password), approves the consent page (or, with --decline, aborts it), and waits until
// the browser lands on mcpauth's loopback redirect and shows its answer. Exits 0 then,
// 1 with the reason on stderr otherwise (including after 60 s).
//
// With --user-code it is the other device of a device sign-in (RFC 8628): URL is the
// verification page, where it types CODE and confirms it, then signs in and approves as
// above, and ends on the provider's success page.
//
// With --elsewhere it is a browser on another machine, as with `mcpauth login
// --no-browser`: the redirect to 127.0.0.1 cannot reach mcpauth, and the address it was
// sent to is printed on stdout for the person to paste.
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
const elsewhere = args.includes('--elsewhere');
const codeAt = args.indexOf('--user-code');
const userCode = codeAt >= 0 ? args[codeAt + 1] : undefined;
const url = args.filter((a) => !a.startsWith('--') && a !== report && a !== userCode).pop();
if (!url) {
  console.error('browser.mjs: no URL given');
  process.exit(2);
}

const say = (m) => console.error(`browser.mjs: ${m}`);
const browser = await chromium.launch({
  // Elsewhere, this machine's loopback addresses other than the provider's are another
  // machine's. The provider sends the browser on to mcpauth's redirect by HTTP
  // redirects, which a route never sees, so they go to a proxy that is not there.
  proxy: elsewhere ? { server: 'http://127.0.0.1:9', bypass: `<-loopback>,${new URL(url).host}` } : undefined,
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
  // Elsewhere: the address of the redirect that could not be reached.
  let unreachable;
  const failedRedirect = new Promise((resolve) => {
    if (!elsewhere) return;
    page.on('requestfailed', (request) => {
      if (new URL(request.url()).pathname === '/callback') {
        unreachable = request.url();
        resolve();
      }
    });
  });
  const deadline = Date.now() + 60_000;
  await page.goto(url);
  // Each step submits a form and waits for the page that answers it.
  const submit = async (selector) => {
    const before = page.url();
    await Promise.all([
      page
        .waitForURL((u) => u.href !== before, { waitUntil: 'load', timeout: deadline - Date.now() })
        // With --elsewhere the last navigation is the one that could not be made (its
        // failure may be told a moment after the navigation's).
        .catch(async (e) => {
          if (!elsewhere) throw e;
          await Promise.race([failedRedirect, new Promise((r) => setTimeout(r, 5000))]);
          if (!unreachable) throw e;
        }),
      page.click(selector),
    ]);
  };
  for (let step = 0; step < 10 && Date.now() < deadline; step++) {
    if (unreachable) {
      say('the redirect did not reach this machine; its address is on stdout');
      process.stdout.write(`${unreachable}\n`);
      code = 0;
      break;
    }
    const here = new URL(page.url());
    if (here.hostname === '127.0.0.1' && here.pathname === '/callback') {
      say(`landed on the redirect: ${(await page.textContent('body'))?.trim().slice(0, 80)}`);
      if (report) await describe(page, report);
      code = 0;
      break;
    }
    if ((await page.title()) === 'Sign-in Success') {
      say(`the provider says: ${(await page.textContent('p'))?.trim()}`);
      if (report) await describe(page, report);
      code = 0;
      break;
    }
    if (userCode && (await page.locator('input[type=text][name=user_code]').count())) {
      say('typing the code');
      await page.fill('input[type=text][name=user_code]', userCode);
      // The form posts to the page's own address: wait for the next page, not a new URL.
      await Promise.all([
        page.waitForEvent('load', { timeout: deadline - Date.now() }),
        page.click('button[form="op.deviceInputForm"]'),
      ]);
    } else if (await page.locator('button[autofocus][form="op.deviceConfirmForm"]').count()) {
      say('confirming the code');
      await submit('button[autofocus][form="op.deviceConfirmForm"]');
    } else if (await page.locator('input[name=login]').count()) {
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
