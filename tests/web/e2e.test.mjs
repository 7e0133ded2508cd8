// End-to-end tests of the web chat in a real browser: Debian's chromium driven by
// playwright-core (no browser download). Starts the built `mailguide serve` with
// MAILGUIDE_WEBCHAT=1 on a free loopback port and a temporary data dir, then walks a flow by
// clicking, answers by typing, pastes bounces, copies the escalation summary, and opens the
// flow map and the outcomes page. Screenshots go to $MAILGUIDE_E2E_OUT.
// Run through tests/web/run.sh (CTest: web_e2e).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

const binary = process.env.MAILGUIDE_BINARY;
const outDir = process.env.MAILGUIDE_E2E_OUT || join(tmpdir(), 'mailguide-web-e2e');
const executablePath = process.env.MAILGUIDE_CHROMIUM || '/usr/bin/chromium';
assert.ok(binary, 'MAILGUIDE_BINARY names the mailguide executable');
mkdirSync(outDir, { recursive: true });

const BOUNCE = [
  'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>',
  'Subject: Undelivered Mail Returned to Sender',
  '',
  'This is the mail system at host mx.example.net.',
  'I\'m sorry to have to inform you that your message could not be delivered.',
  '',
  '<someone@gmail.com>: host gmail-smtp-in.l.google.com[142.250.1.27] said:',
  '    550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
  '    550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
  '    550 5.7.26 (in reply to end of DATA command)',
].join('\n');

let server;
let serverLog = '';
let dataDir;
let base;
let browser;
let context;
let page;
let replyCounter = 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error('mailguide serve exited early:\n' + serverLog);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch (e) { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('mailguide serve did not answer ' + url + ' in time:\n' + serverLog);
}

// The viewport as a person sees it (the chat keeps its newest reply in view).
async function shot(name, fullPage = false) {
  await page.screenshot({ path: join(outDir, name + '.png'), fullPage });
}

// Runs `action` and waits until the chat shows a new reply and is no longer busy; returns the
// newest reply.
async function expectReplies(action) {
  await page.evaluate(() => {
    for (const a of document.querySelectorAll('#log article.reply')) a.dataset.seen = '1';
  });
  await action();
  await page.waitForFunction(() => document.querySelector('#log article.reply:not([data-seen])') &&
    !document.getElementById('composer').hasAttribute('aria-busy'));
  // A name that stays valid after the next call marks this reply as seen.
  const name = String(++replyCounter);
  await page.evaluate((n) => {
    const fresh = document.querySelectorAll('#log article.reply:not([data-seen])');
    fresh[fresh.length - 1].dataset.e2e = n;
  }, name);
  return page.locator(`#log article.reply[data-e2e="${name}"]`);
}

async function typeAndSend(text) {
  const box = page.getByLabel('Message to mailguide');
  await box.focus();
  await box.fill(text);
  return expectReplies(() => box.press('Enter'));
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mailguide-e2e-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(binary, ['serve'], {
    env: {
      ...process.env,
      MAILGUIDE_WEBCHAT: '1',
      MAILGUIDE_PLAIN_HTTP: '1',
      MAILGUIDE_LISTEN: `127.0.0.1:${port}`,
      MAILGUIDE_DATA_DIR: dataDir,
      MAILGUIDE_STORE: `sqlite:${join(dataDir, 'sessions.db')}`,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr.on('data', (chunk) => { serverLog += chunk; });
  await waitHealthy(base + '/healthz', 20000);
  assert.match(serverLog, new RegExp(`web: chat page on ${base.replace(/\./g, '\\.')}/`));

  browser = await chromium.launch({
    executablePath,
    headless: true,
    // As the machine notes say: no sandbox as root, and no background traffic to the internet.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  page = await context.newPage();
  page.on('pageerror', (e) => { throw e; });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
    assert.equal(server.exitCode, 0, 'serve exits 0 on SIGTERM');
  }
  writeFileSync(join(outDir, 'serve.log'), serverLog);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('walks a flow by clicking, and focus moves to each new question', async () => {
  await page.goto(base + '/');
  await page.locator('#log article.reply').first().waitFor();
  await expectReplies(() => page.getByRole('button', { name: "Can't get into webmail" }).click());
  let last = await expectReplies(() => page.getByRole('button', { name: 'Reseller Control Panel (RCP)' }).click());
  await assert.doesNotReject(last.getByText('Step 1 of 5').waitFor());
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H2');
  assert.match(await page.evaluate(() => document.activeElement.textContent), /webmail/i);
  last = await expectReplies(() => last.getByRole('button', { name: 'Yes' }).click());
  await last.getByText('Step 2 of 5').waitFor();
  // The answered question keeps its buttons, disabled, with the choice marked.
  assert.equal(await page.locator('button.chosen').last().textContent(), 'Yes');
  await shot('01-flow-by-clicking');
});

test('answers by typing: a failed check, then "that fixed it"', async () => {
  let last = await typeAndSend('yes');  // step 2: is it in maintenance? yes → the check fails
  await last.getByText('Likely cause').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'box', 'focus stays in the box after typing');
  last = await typeAndSend('fixed');
  await last.getByRole('heading', { name: 'Resolved' }).waitFor();
  await shot('02-answered-by-typing');
});

test('pastes a bounce after /smtp-code and gets it explained', async () => {
  await page.getByRole('button', { name: 'Explain a bounce…' }).click();
  const box = page.getByLabel('Message to mailguide');
  assert.equal(await box.inputValue(), '/smtp-code\n');
  // A real paste from the clipboard into the box.
  await page.evaluate((text) => navigator.clipboard.writeText(text), BOUNCE);
  await box.press('ControlOrMeta+V');
  assert.ok((await box.inputValue()).includes('550 5.7.26'), 'the bounce landed in the box');
  const last = await expectReplies(() => box.press('Enter'));
  assert.match(await last.locator('h2').textContent(), /5\.7\.26/);
  await shot('03-bounce-explained');
});

test('walks to an escalation, pastes the bounce, and copies the summary', async () => {
  let last = await typeAndSend('/mailguide sending rcp');
  await last.getByText('Step 1 of 5').waitFor();
  for (let step = 1; step <= 5; step++) {
    last = await expectReplies(() => last.getByRole('button', { name: 'Skip' }).click());
  }
  await last.getByText('Which mailbox is affected').waitFor();
  last = await typeAndSend('jane@example.com');
  if (await last.getByText('Which domain').count()) last = await typeAndSend('example.com');
  last = await typeAndSend('Today 09:12 UTC');
  // The bounce question takes a pasted bounce (several lines: Shift+Enter keeps them together).
  const box = page.getByLabel('Message to mailguide');
  await box.focus();
  await page.keyboard.insertText(BOUNCE);
  last = await expectReplies(() => box.press('Enter'));
  await last.getByRole('heading', { name: 'Escalation summary' }).waitFor();
  const summary = await last.locator('pre').textContent();
  assert.match(summary, /jane@example\.com/);

  await last.getByRole('button', { name: 'Copy summary' }).click();
  await last.getByText('Copied to the clipboard').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), summary);
  await shot('04-escalation-copied');
});

test('is usable with the keyboard alone', async () => {
  await page.getByRole('button', { name: 'New conversation' }).focus();
  let last = await expectReplies(() => page.keyboard.press('Enter'));
  // Focus is on the new reply's heading: Tab reaches its first answer button.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Can't get into webmail");
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Can't send email");
  last = await expectReplies(() => page.keyboard.press('Space'));
  // The panel chosen in the first case is remembered for this browser's user.
  await last.getByText('Step 1 of 5').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Yes');
  last = await expectReplies(() => page.keyboard.press('Enter'));
  await last.getByText('Step 2 of 5').waitFor();
  await shot('05-keyboard-only');
});

test('the flow map shows the flows, and a step opens its text', async () => {
  await page.goto(base + '/map');
  const links = page.locator('svg.flowmap a.node-link');
  assert.ok(await links.count() > 20, 'every step is a link');
  await shot('06-flow-map');
  const first = links.first();
  const href = await first.getAttribute('href');
  await first.click();
  assert.equal(new URL(page.url()).hash, href);
  const text = page.locator(href);
  await text.waitFor();
  assert.ok(await text.evaluate((el) => el.matches(':target')));
  assert.match(await text.textContent(), /Check/);
  await text.screenshot({ path: join(outDir, '07-flow-map-step.png') });
});

test('the outcomes page counts the finished cases', async () => {
  await page.goto(base + '/outcomes?preset=today');
  const count = async (outcome) => Number(await page.locator(`.tiles [data-outcome="${outcome}"]`).textContent());
  assert.ok(await count('resolved') >= 1, 'the case fixed by typing');
  assert.ok(await count('escalated') >= 1, 'the escalated case');
  await shot('08-outcomes', true);
  const json = await (await page.request.get(base + '/outcomes.json?preset=today')).json();
  const webmail = json.flows.find((f) => f.flow === 'webmail' && f.panel === 'rcp');
  assert.equal(webmail.resolved, 1);
  assert.equal(webmail.steps.find((s) => s.number === 2).resolved, 1, 'resolved at step 2');
  const sending = json.flows.find((f) => f.flow === 'sending' && f.panel === 'rcp');
  assert.equal(sending.escalated, 1);
  // The period form works too.
  await page.getByRole('link', { name: 'All time' }).click();
  assert.ok(await count('resolved') >= 1);
});
