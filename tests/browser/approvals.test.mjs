// The approvals page of `jsmctl serve` in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core, which never downloads a browser). Each test goes through the page as an operator would and
// checks the outcome through the emulator or the API. Screenshots go to target/browser-screenshots/.
//
// Needs JSMCTL_BIN (the built jsmctl); CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const BIN = process.env.JSMCTL_BIN ?? join(repo, 'target', 'debug', 'jsmctl');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(repo, 'target', 'browser-screenshots');

const dir = mkdtempSync(join(tmpdir(), 'jsmctl-browser-'));
const children = [];
let env, site, serve, browser, tokens = {};

/** Starts `jsmctl ARGS` and resolves with the first stdout line (the base URL). */
function startServer(args, extraEnv) {
  return new Promise((ok, fail) => {
    const child = spawn(BIN, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => fail(new Error(`${args[0]} did not start: ${stderr}`)), 20000);
    createInterface({ input: child.stdout }).once('line', (line) => { clearTimeout(timer); ok(line.trim()); });
    child.once('exit', (code) => fail(new Error(`${args[0]} exited ${code}: ${stderr}`)));
  });
}

function jsmctl(args, actor = 'alice') {
  return execFileSync(BIN, args, { env: { ...env, JSMCTL_ACTOR: actor }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A plan by `requester` that needs an approval (an agent seat); returns its id. */
function agentPlan(requester, email, name) {
  const file = join(dir, `${email}.json`);
  jsmctl(['agents', 'provision', '--email', email, '--name', name, '--out', file], requester);
  return JSON.parse(readFileSync(file, 'utf8')).id;
}

async function api(path, token, init = {}) {
  const resp = await fetch(`${serve}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  return { status: resp.status, body: await resp.json() };
}

/** The account with this email on the emulator's site, through its REST API. */
async function siteUser(email) {
  const auth = Buffer.from(`${env.ATLASSIAN_EMAIL}:${env.ATLASSIAN_API_TOKEN}`).toString('base64');
  const resp = await fetch(`${site}/rest/api/3/user/search?query=${encodeURIComponent(email)}`, { headers: { authorization: `Basic ${auth}` } });
  const users = await resp.json();
  return users.find((u) => u.emailAddress === email);
}

async function eventually(what, check, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function login(token) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${serve}/ui`);
  assert.match(page.url(), /\/login$/, 'the page asks for a login first');
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL(`${serve}/ui`);
  return { context, page };
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const envFile = join(dir, 'emulator.env');
  site = await startServer(['emulator', '--listen', '127.0.0.1:0', '--seed', 'demo', '--admin-token', 'browser-token', '--env-file', envFile], {});
  await eventually('the emulator env file', () => existsSync(envFile));
  const vars = Object.fromEntries(readFileSync(envFile, 'utf8').trim().split('\n').map((l) => {
    const at = l.indexOf('=');
    return [l.slice(0, at), l.slice(at + 1).replace(/^'|'$/g, '')];
  }));
  const policy = join(dir, 'policy.toml');
  writeFileSync(policy, 'version = 1\n[approval]\ndistinct_approver = true\n');
  env = { ...process.env, ...vars, JSMCTL_STATE: join(dir, 'state.db'), JSMCTL_POLICY: policy, JSMCTL_WEBHOOK_SECRET: 'browser-secret', HOME: dir };
  for (const name of ['alice', 'bob']) tokens[name] = jsmctl(['operators', 'add', name]).trim();
  serve = await startServer(['serve', '--listen', '127.0.0.1:0'], env);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox as root; no background traffic (this machine's network is closed).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('an approver logs in, sees the diff, approves, and the plan is applied on the site', async () => {
  const id = agentPlan('alice', 'approved.agent@example.com', 'Approved Agent');
  const { context, page } = await login(tokens.bob);
  await page.click(`a[href="/ui/plans/${id}"]`);
  const diff = page.locator('#diff');
  await diff.waitFor();
  const text = await diff.innerText();
  assert.match(text, /\+\s*scim_create_user/);
  assert.match(text, /approved\.agent@example\.com/);
  assert.match(await page.locator('.rule').first().innerText(), /agent_seat_grants/, 'the rule that asked for approval');
  assert.equal(await page.locator('.requester').innerText(), 'alice');
  await shot(page, '1-pending-plan-diff');
  await page.click('#approve');
  await page.locator('.flash.ok').waitFor();
  assert.match(await page.locator('.flash').innerText(), /Approved by bob; apply queued as job \d+/);
  const user = await eventually('the agent on the emulator', () => siteUser('approved.agent@example.com'));
  assert.equal(user.displayName, 'Approved Agent');
  await eventually('the plan to be applied', async () => (await api(`/api/v1/plans/${id}`, tokens.bob)).body.status === 'applied');
  await page.reload();
  assert.match(await page.locator('h1 .badge').innerText(), /applied/);
  await shot(page, '2-applied-plan');
  await page.goto(`${serve}/ui/audit?q=bob`);
  assert.match(await page.locator('table').innerText(), /approve/);
  await shot(page, '3-audit-search');
  await context.close();
});

test('an approver rejects a plan and nothing reaches the site', async () => {
  const id = agentPlan('alice', 'rejected.agent@example.com', 'Rejected Agent');
  const { context, page } = await login(tokens.bob);
  await page.goto(`${serve}/ui/plans/${id}`);
  await page.fill('#reason', 'not this quarter');
  await page.click('#reject');
  await page.locator('.flash.ok').waitFor();
  assert.match(await page.locator('.flash').innerText(), /Rejected by bob/);
  assert.match(await page.locator('main').innerText(), /Rejected by bob: not this quarter/);
  assert.equal(await page.locator('#approve').count(), 0, 'no approve button on a rejected plan');
  await shot(page, '4-rejected-plan');
  const plan = await api(`/api/v1/plans/${id}`, tokens.bob);
  assert.equal(plan.body.status, 'rejected');
  assert.equal(await siteUser('rejected.agent@example.com'), undefined);
  await context.close();
});

test('the requester cannot approve their own plan (distinct_approver)', async () => {
  const id = agentPlan('alice', 'own.agent@example.com', 'Own Agent');
  const { context, page } = await login(tokens.alice);
  await page.goto(`${serve}/ui/plans/${id}`);
  const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/approve')), page.click('#approve')]);
  assert.equal(resp.status(), 403);
  assert.match(await page.locator('.flash.error').innerText(), /alice requested plan .* and cannot approve it/);
  await shot(page, '5-self-approval-refused');
  const plan = await api(`/api/v1/plans/${id}`, tokens.alice);
  assert.equal(plan.body.status, 'awaiting_approval');
  assert.deepEqual(plan.body.approvals, []);
  assert.equal(await siteUser('own.agent@example.com'), undefined);
  await context.close();
});

test('Atlassian text shows as text, cookies are HttpOnly and SameSite=Strict, and forms need the CSRF token', async () => {
  const name = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">Mallory';
  const id = agentPlan('alice', 'mallory@example.com', name);
  const { context, page } = await login(tokens.bob);
  await page.goto(`${serve}/ui/plans/${id}`);
  const target = await page.locator('#diff .target').first().innerText();
  assert.ok(target.includes(name), `shown as text: ${target}`);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran');
  assert.equal(await page.locator('main script, main img').count(), 0, 'no injected element');
  await shot(page, '6-escaped-display-name');

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'jsmctl_session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');

  // A forged post with the session cookie but without (or with a wrong) CSRF token is refused.
  for (const form of [{}, { csrf: 'forged' }]) {
    const resp = await context.request.post(`${serve}/ui/plans/${id}/approve`, { form, maxRedirects: 0 });
    assert.equal(resp.status(), 403, JSON.stringify(form));
  }
  const api403 = await context.request.post(`${serve}/api/v1/plans/${id}/approve`);
  assert.equal(api403.status(), 403, 'API writes with the cookie need X-CSRF-Token');
  const logout = await context.request.post(`${serve}/logout`, { form: {}, maxRedirects: 0 });
  assert.equal(logout.status(), 403, 'logout is a form post too');
  const plan = await api(`/api/v1/plans/${id}`, tokens.bob);
  assert.deepEqual(plan.body.approvals, [], 'no forged approval');
  await context.close();
});
