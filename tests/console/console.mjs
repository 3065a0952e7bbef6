// The township console in a real browser: Debian's Chromium, headless, driven by Playwright
// (playwright-core, with the system browser). A real sync server with the demo's history, a
// worker's phone played by the real `gridpatrol` command line, and these checks:
//   - an officer signs in with the keyboard alone and sees the dashboard;
//   - a hazard the worker's phone escalated (with a photo) is in the officer's queue; the
//     officer hands it back, and the phone receives the hand-back at its next sync;
//   - a village leader cannot see a case of another village, by list or by address;
//   - the ledger export downloads as XLSX and parses, holding the case;
//   - the case's 整改通知书 prints to a one-page A4 PDF saying its number, hazard and deadline;
//   - 复查 starts with nothing chosen, a refusal shows beside its box and survives Reload and
//     Back; a sign-in ended elsewhere says so and returns to the page;
//   - every main page fits a 390 px phone screen;
//   - every page fits 1366x768 without sideways scrolling, and focus is visible;
//   - administration: a place registered on a phone is 新增 until confirmed, an officer adds a
//     place (the phone receives it), disables a user, starts a campaign (its figures on the
//     dashboard), adds a checklist item of the township's own (the phone's form has it), a
//     leader plans a grid's patrols, and the officer moves a grid to another village (its
//     leader then keeps its places); every administration page fits the office screen.
// Screenshots of the dashboard and the hazard detail, and the downloaded ledger, are saved to
// target/artefacts/console/. Writes one PASS or FAIL line per check to
// target/console-results.txt; exits non-zero when any check fails.
// Usage (tests/console.sh sets this up): node tests/console/console.mjs
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR, 'node_modules') + '/');
const { chromium } = require('playwright-core');

const bin = path.join(root, 'target/debug');
const artefacts = path.join(root, 'target/artefacts/console');
const results = path.join(root, 'target/console-results.txt');
fs.mkdirSync(artefacts, { recursive: true });
fs.writeFileSync(results, '');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gp-console-'));
const PASSWORD = 'gridpatrol';

let failures = 0;
async function check(name, f) {
  try {
    await f();
    fs.appendFileSync(results, `PASS ${name}\n`);
    console.log(`PASS ${name}`);
  } catch (e) {
    failures += 1;
    fs.appendFileSync(results, `FAIL ${name}\n`);
    console.log(`FAIL ${name}\n${e.stack || e}`);
  }
}
function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

/** Starts the sync server with the demo and its history; resolves to its URL. */
function startServer() {
  const child = spawn(path.join(bin, 'gridpatrol-sync-server'),
    ['--demo', '--listen', '127.0.0.1:0', '--data-dir', path.join(work, 'server')],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line.trim());
      if (m) resolve({ child, url: m[1] }); else reject(new Error(`unexpected: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** Runs the `gridpatrol` command line on the worker's phone database; returns its output. */
function phone(...args) {
  return execFileSync(path.join(bin, 'gridpatrol'), ['--db', path.join(work, 'w04.db'), ...args],
    { env: { ...process.env, GRIDPATROL_PASSWORD: PASSWORD }, encoding: 'utf8' });
}
const phoneJson = (...args) => JSON.parse(phone('--json', ...args));

/** Reads the first sheet of an XLSX file into rows of strings (Python's zipfile does the unzip). */
function readXlsx(file) {
  const script = `
import json, re, sys, zipfile, xml.etree.ElementTree as ET
ns = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
z = zipfile.ZipFile(sys.argv[1])
shared = []
if 'xl/sharedStrings.xml' in z.namelist():
    for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', ns):
        shared.append(''.join(t.text or '' for t in si.iter('{%s}t' % ns['m'])))
sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))
rows = []
for row in sheet.iter('{%s}row' % ns['m']):
    cells = []
    for c in row.findall('m:c', ns):
        v = c.find('m:v', ns)
        t = c.get('t')
        if t == 's': cells.append(shared[int(v.text)])
        elif t == 'inlineStr': cells.append(''.join(x.text or '' for x in c.iter('{%s}t' % ns['m'])))
        else: cells.append(v.text if v is not None else '')
    rows.append(cells)
print(json.dumps(rows, ensure_ascii=False))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

async function signIn(context, url, user) {
  const page = await context.newPage();
  await page.goto(`${url}/console/login`);
  await page.getByLabel('账号').fill(user);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(`${url}/console/`);
  return page;
}

/**
 * A case w04's phone reports, notifies and submits as rectified, synced; g04's village leader
 * signed in on its own browser with the case's 复查 form open.
 */
async function reviewAsLeader(url, description, note) {
  const place = phoneJson('places', '--as', 'w04').find((p) => p.place.grid_id === 'g04').place;
  const id = phoneJson('hazard', 'report', '--as', 'w04', '--place', place.id, '--category',
    'wiring', '--severity', 'general', '--description', description).id;
  phone('hazard', 'notify', id, '--as', 'w04', '--party', '店主', '--deadline', inDays(5));
  phone('hazard', 'submit', id, '--as', 'w04', '--note', note);
  phone('sync');
  const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
  const leader = await signIn(ctx, url, 'l02');
  await leader.goto(`${url}/console/hazards/${id}`);
  await leader.locator('#act-review summary').click();
  return { ctx, leader, id };
}

/** No sideways scrolling at the office screen's width. */
async function fitsWidth(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 1366, `page is ${width}px wide at 1366`);
}

const server = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const viewport = { width: 1366, height: 768 };
let hazardId = '';
let caseNumber = '';
/** The day `n` days from today in China time, as a date box writes it. */
function inDays(n) {
  const ms = Date.now() + 8 * 3600_000 + n * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}
const handBackBy = inDays(9);
try {
  const url = server.url;
  const officerCtx = await browser.newContext({ viewport, acceptDownloads: true, locale: 'zh-CN' });

  await check('a worker phone reports and escalates a hazard with a photo', async () => {
    // The photo: a real JPEG, taken by the browser of a page drawn for it.
    const cam = await officerCtx.newPage();
    await cam.setContent('<body style="margin:0;background:linear-gradient(#b3261e,#f2a900)">' +
      '<h1 style="font:64px sans-serif;color:#fff;padding:80px">安全出口堵塞</h1></body>');
    const photo = path.join(work, 'exit.jpg');
    await cam.screenshot({ path: photo, type: 'jpeg', quality: 80 });
    await cam.close();
    phone('init');
    phone('login', '--server', url, '--user', 'w04');
    phone('sync');
    const place = phoneJson('places', '--as', 'w04').find((p) => p.place.grid_id === 'g04').place;
    hazardId = phoneJson('hazard', 'report', '--as', 'w04', '--place', place.id, '--category',
      'exit_blocked', '--severity', 'major', '--description', '二楼安全出口被杂物堵塞',
      '--photo', photo).id;
    phone('hazard', 'escalate', hazardId, '--as', 'w04', '--to', 'township', '--reason', 'major');
    const out = phone('sync');
    assert(/照片 photos sent 1/.test(out), `the photo was sent: ${out}`);
    // The server numbered the case when it arrived; the phone has the number.
    const shown = phoneJson('hazard', 'show', hazardId);
    caseNumber = (shown.hazard ?? shown).case_number;
    assert(/^T01-\d{4}-\d{5}$/.test(caseNumber), `case number ${caseNumber}`);
  });

  let officer;
  await check('an officer signs in with the keyboard alone', async () => {
    officer = await officerCtx.newPage();
    await officer.goto(`${url}/console/login`);
    // The user field has focus on arrival; Tab moves on, Enter submits.
    await officer.waitForFunction(() => document.activeElement?.name === 'user_id');
    await officer.keyboard.type('o01');
    await officer.keyboard.press('Tab');
    await officer.keyboard.type(PASSWORD);
    await officer.keyboard.press('Enter');
    await officer.waitForURL(`${url}/console/`);
    // The first Tab stop is the skip link, and focus is drawn.
    await officer.keyboard.press('Tab');
    const focused = await officer.evaluate(() => {
      const el = document.activeElement;
      return { text: el.textContent, outline: getComputedStyle(el).outlineStyle };
    });
    assert(focused.text.includes('跳到正文'), `first stop: ${focused.text}`);
    assert(focused.outline !== 'none', 'focus is visible');
  });

  await check('the dashboard shows the headline figures and charts for the township', async () => {
    await officer.goto(`${url}/console/?from=2026-09-01&to=2026-11-30`);
    for (const figure of ['闭环率', '一般隐患网格内闭环率', '按期整改率', '逾期未整改', '巡查覆盖率']) {
      await officer.getByText(figure, { exact: false }).first().waitFor();
    }
    assert(await officer.locator('svg[role="img"]').count() === 2, 'two charts');
    assert(await officer.getByRole('row', { name: /西岭村/ }).count() >= 1, 'village breakdown');
    await fitsWidth(officer);
    await officer.screenshot({ path: path.join(artefacts, 'dashboard.png'), fullPage: true });
  });

  await check('the escalated hazard is in the queue; the officer hands it back', async () => {
    await officer.getByRole('link', { name: '上报待办' }).click();
    // The queue says what each case is, why and by whom it came up, and how long it has waited.
    const line = await officer.getByRole('row', { name: new RegExp(caseNumber) }).innerText();
    for (const want of ['二楼安全出口被杂物堵塞', '西岭', '重大隐患', '（网格员）']) {
      assert(line.includes(want), `the queue line says ${want}: ${line}`);
    }
    assert(/\t0\t/.test(line), `waited 0 days: ${JSON.stringify(line)}`);
    await officer.getByRole('link', { name: caseNumber }).click();
    await officer.getByText('二楼安全出口被杂物堵塞', { exact: true }).waitFor();
    // The worker's photo arrived with the case and shows.
    const img = officer.locator('.photos img').first();
    await img.waitFor();
    assert(await img.evaluate((i) => i.complete && i.naturalWidth > 0), 'the photo loads');
    await fitsWidth(officer);
    await officer.screenshot({ path: path.join(artefacts, 'hazard-detail.png'), fullPage: true });

    await officer.locator('#act-hand_back summary').click();
    const form = officer.locator('#act-hand_back form');
    await form.getByLabel('至').selectOption('grid');
    await form.getByLabel('指导意见').fill('请督促业主三日内清理通道，清理后拍照提交复查');
    await form.getByLabel('整改期限').fill(handBackBy);
    await form.getByRole('button', { name: '提交' }).click();
    await officer.getByText('已记录「交办」').waitFor();
    await officer.getByText(`交办至网格，期限 ${handBackBy}`).waitFor();
    await officer.screenshot({ path: path.join(artefacts, 'hazard-handed-back.png'), fullPage: true });
  });

  await check('the hand-back arrives on the worker phone at its next sync', async () => {
    phone('sync');
    const shown = phoneJson('hazard', 'show', hazardId);
    const state = shown.hazard ?? shown;
    assert(state.status === 'notified', `status ${state.status}`);
    assert(state.level === 'grid', `level ${state.level}`);
    assert(state.deadline === handBackBy, `deadline ${state.deadline}`);
    const last = shown.events[shown.events.length - 1];
    assert(last.actor_id === 'o01' && last.event.type === 'hand_back', JSON.stringify(last));
  });

  await check('复查: nothing chosen for the person; a refusal says why beside its box and survives Reload and Back', async () => {
    const { ctx, leader } = await reviewAsLeader(url, '配电箱电线裸露', '已更换电线');
    const form = leader.locator('#act-review form');
    const radios = form.locator('input[type=radio]');
    assert(await radios.count() === 2, 'two choices');
    for (let i = 0; i < 2; i += 1) assert(!(await radios.nth(i).isChecked()), 'nothing chosen');
    assert(await form.locator('textarea').evaluateAll((ts) => ts.every((t) => t.maxLength === 500)),
      'every box has its limit');
    // Clicking the words chooses their button.
    await form.getByText('未通过，退回整改').click();
    assert(await radios.nth(1).isChecked(), 'the label is attached');
    await form.getByLabel('未通过时的新期限').fill(inDays(-3));
    await form.getByRole('button', { name: '提交' }).click();
    await leader.waitForURL(/problem=/);
    const beside = leader.locator('#act-review .field-error');
    await beside.waitFor();
    assert((await beside.textContent()).includes('不能早于今天'), await beside.textContent());
    // Reload and Back show pages, never a resubmission or ERR_CACHE_MISS.
    await leader.reload();
    await leader.locator('#act-review .field-error').waitFor();
    const back = await leader.goBack();
    assert(back && back.ok(), 'Back shows the case again');
    await leader.getByText('配电箱电线裸露', { exact: true }).waitFor();
    await ctx.close();
  });

  await check('a sign-in ended elsewhere says so and returns to the page after signing in again', async () => {
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
    const leader = await signIn(ctx, url, 'l03');
    await officer.goto(`${url}/console/admin/people`);
    await officer.getByRole('row', { name: /l03/ })
      .getByRole('button', { name: '注销设备' }).click();
    await officer.getByText('注销设备登录').first().waitFor();
    await leader.goto(`${url}/console/hazards?overdue=1`);
    await leader.getByText('登录已过期').waitFor();
    await leader.getByLabel('账号').fill('l03');
    await leader.getByLabel('密码').fill(PASSWORD);
    await leader.getByRole('button', { name: '登录' }).click();
    await leader.waitForURL(`${url}/console/hazards?overdue=1`);
    await ctx.close();
    await officer.goto(`${url}/console/`);
  });

  await check('a form sent after a sign-out elsewhere records nothing and leaves nothing for the next person', async () => {
    const { ctx, leader, id } = await reviewAsLeader(url, '插线板串接使用', '已拆除串接插线板');
    const form = leader.locator('#act-review form');
    const opinion = '现场复查：仍有一处插线板串接，请于三日内拆除并拍照';
    await form.getByText('未通过，退回整改').click();
    await form.getByLabel('复查意见').fill(opinion);
    await form.getByLabel('未通过时的新期限').fill(inDays(3));
    // Meanwhile the officer signs the leader out everywhere (a lost phone, a person who left).
    await officer.goto(`${url}/console/admin/people`);
    await officer.getByRole('row', { name: /l02/ })
      .getByRole('button', { name: '注销设备' }).click();
    await officer.getByText('注销设备登录').first().waitFor();
    await form.getByRole('button', { name: '提交' }).click();
    await leader.getByText('不予保留').waitFor();
    await leader.getByLabel('账号').fill('l02');
    await leader.getByLabel('密码').fill(PASSWORD);
    await leader.getByRole('button', { name: '登录' }).click();
    await leader.waitForURL(`${url}/console/hazards/${id}`);
    assert(!(await leader.getByText(opinion).count()), 'the words are nowhere on the page');
    assert(!(await leader.getByText('未通过，新期限').count()), 'nothing was recorded');
    await ctx.close();
    await officer.goto(`${url}/console/`);
  });

  await check('the brigade advisor reads the dashboard and is given nothing to do', async () => {
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
    const advisor = await signIn(ctx, url, 'b01');
    await advisor.getByText('闭环率', { exact: true }).first().waitFor();
    assert(!(await advisor.getByText('待办上报').count()), 'no to-do count for the advisor');
    await ctx.close();
  });

  await check('the hazard list finds a case by its words and sorts by deadline', async () => {
    await officer.goto(`${url}/console/hazards`);
    await officer.getByLabel('查找').fill('安全出口被杂物');
    await officer.getByRole('button', { name: '筛选' }).click();
    const rows = officer.locator('table tbody tr');
    assert(await rows.count() === 1, `one case found: ${await rows.count()}`);
    assert((await rows.first().innerText()).includes(caseNumber), 'it is ours, by its case number');
    await officer.goto(`${url}/console/hazards`);
    await officer.getByLabel('排序').selectOption('deadline');
    await officer.getByRole('button', { name: '筛选' }).click();
    await officer.waitForURL(/sort=deadline/);
    const deadlines = (await rows.evaluateAll((trs) => trs.map((tr) => tr.cells[9].innerText.trim())))
      .filter((d) => /^\d{4}-\d{2}-\d{2}/.test(d)).map((d) => d.slice(0, 10));
    assert(deadlines.length >= 2, `cases with deadlines: ${deadlines}`);
    assert(deadlines.every((d, i) => i === 0 || deadlines[i - 1] <= d), `nearest first: ${deadlines}`);
  });

  await check('coverage is a work list: the places due, most overdue first, with their grid worker', async () => {
    await officer.goto(`${url}/console/coverage`);
    const due = officer.locator('#due + p + table tbody tr');
    assert(await due.count() > 1, `places due: ${await due.count()}`);
    const days = await due.evaluateAll((trs) => trs.map((tr) => Number(tr.cells[6].innerText)));
    assert(days.every((d, i) => i === 0 || days[i - 1] >= d), `most overdue first: ${days}`);
    assert((await due.first().innerText()).includes('（网格员）'), 'the grid worker is named');
  });

  await check('the registers page: fires by cause add up to the fires listed, the unsigned places to the letter rate, the equipment listed due to its count', async () => {
    await officer.getByRole('link', { name: '台账登记' }).click();
    const figure = async (label) => Number((await officer.locator('.figure', { hasText: label })
      .locator('.value').innerText()).trim());
    const fires = await figure('火灾起数');
    assert(fires > 0, `the demo year has fires: ${fires}`);
    const listed = await officer.locator('#fires + p + .scroll table tbody tr').count();
    assert(listed === fires, `${listed} fires listed, ${fires} counted`);
    const byCause = await officer.locator('#by-cause tbody td').evaluateAll((tds) =>
      tds.reduce((n, td) => n + Number(td.innerText), 0));
    assert(byCause === fires, `by cause ${byCause}, counted ${fires}`);
    const history = await officer.locator('#fires + p + .scroll table tbody').innerText();
    assert(/从未巡查|\d{4}-\d{2}-\d{2}/.test(history), 'a fire at a place shows its last patrol');
    const [places, signed] = (await officer.locator('#letter-figures').innerText())
      .match(/在册场所 (\d+) 处，责任书在有效期内 (\d+) 处/).slice(1).map(Number);
    const unsigned = await officer.locator('#unsigned + .scroll table tbody tr').count();
    assert(places - signed === unsigned, `${places} places, ${signed} signed, ${unsigned} listed unsigned`);
    const equipmentDue = await figure('器材待检查（项）');
    const dueRows = await officer.locator('#equipment-due + .scroll table tbody tr:not(:has(td.muted))').count();
    assert(equipmentDue === dueRows && dueRows > 0, `${equipmentDue} items counted due, ${dueRows} listed`);
    await officer.goto(`${url}/console/`);
    assert(await officer.locator('.figure', { hasText: '责任书签订率' }).count() === 1, 'the rate is on the dashboard');
  });

  await check('the console speaks Chinese: no label is doubled in English', async () => {
    for (const page of ['/console/', '/console/escalations', '/console/hazards',
      `/console/hazards/${hazardId}`, '/console/coverage', '/console/registers', '/console/exports',
      '/console/annual?year=2026', '/console/conflicts?all=1', '/console/admin/places',
      '/console/admin/people', '/console/admin/plans', '/console/admin/areas', '/console/admin/campaigns',
      '/console/admin/checklists', '/console/admin/import']) {
      await officer.goto(`${url}${page}`);
      const english = await officer.evaluate(() => [...document.querySelectorAll(
        'h1, h2, h3, nav a, label, legend, summary, button, th, caption, option, p.muted, svg text')]
        .map((e) => e.innerText ?? e.textContent)
        .filter((t) => /[A-Za-z]{4,}/.test(t.replace(/\b(CSV|XLSX|PDF|Excel)\b/g, ''))));
      assert(english.length === 0, `${page} has English labels: ${english.slice(0, 5)}`);
    }
  });

  await check('the 整改通知书 prints to an A4 PDF with the case number, the hazard and the deadline', async () => {
    await officer.goto(`${url}/console/hazards/${hazardId}`);
    await officer.getByRole('link', { name: '整改通知书' }).click();
    await officer.locator('.qr svg').waitFor();
    const pdf = path.join(artefacts, 'notice.pdf');
    await officer.pdf({ path: pdf, format: 'A4', printBackground: true });
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    const pages = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    assert(/Pages:\s+1\b/.test(pages), `one page: ${pages}`);
    assert(/Page size:.*\(A4\)/.test(pages), `A4: ${pages}`);
    for (const want of ['整改通知书', caseNumber, '二楼安全出口被杂物堵塞', handBackBy, '核验码', '签名']) {
      assert(text.includes(want), `the notice says ${want}:\n${text}`);
    }
    await officer.screenshot({ path: path.join(artefacts, 'notice.png'), fullPage: true });
    await officer.goto(`${url}/console/`);
  });

  await check('a village leader cannot see a case of another village', async () => {
    const leaderCtx = await browser.newContext({ viewport, locale: 'zh-CN' });
    const leader = await signIn(leaderCtx, url, 'l01'); // 东沟村; the case is in 西岭村
    const res = await leader.goto(`${url}/console/hazards/${hazardId}`);
    assert(res.status() === 404, `status ${res.status()}`);
    await leader.getByText('不在您的负责范围内').waitFor();
    await leader.goto(`${url}/console/hazards`);
    const html = await leader.content();
    assert(!html.includes(hazardId), 'not in the list');
    assert(!html.includes('西岭村'), 'the other village is not offered as a filter');
    const ledger = await leader.goto(`${url}/console/export/ledger?scope=v02&format=csv`);
    assert(ledger.status() === 404, `export of v02: ${ledger.status()}`);
    await leaderCtx.close();
  });

  await check('the ledger downloads as XLSX and opens with the case in it', async () => {
    await officer.getByRole('link', { name: '台账导出' }).click();
    const [download] = await Promise.all([
      officer.waitForEvent('download'),
      officer.getByRole('button', { name: '下载 XLSX' }).click(),
    ]);
    assert(/\.xlsx$/.test(download.suggestedFilename()), download.suggestedFilename());
    const file = path.join(artefacts, 'ledger.xlsx');
    await download.saveAs(file);
    const rows = readXlsx(file);
    assert(rows.length > 50, `${rows.length} rows`);
    const heading = rows[0].join('|');
    assert(heading.includes('隐患'), heading);
    const ours = rows.find((r) => r.some((c) => c.includes('二楼安全出口被杂物堵塞')));
    assert(ours, 'the escalated case is in the ledger');
  });

  await check('every console page fits 1366x768 without sideways scrolling', async () => {
    for (const page of ['/console/', '/console/escalations', '/console/hazards',
      `/console/hazards/${hazardId}`, '/console/coverage', '/console/registers', '/console/exports',
      '/console/annual?year=2026', '/console/conflicts?all=1']) {
      const res = await officer.goto(`${url}${page}`);
      assert(res.status() === 200, `${page}: ${res.status()}`);
      await fitsWidth(officer);
    }
  });

  await check('every console page fits a 390 px phone screen without sideways scrolling', async () => {
    const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const small = await signIn(phoneCtx, url, 'o01');
    for (const page of ['/console/', '/console/escalations', '/console/hazards',
      `/console/hazards/${hazardId}`, `/console/hazards/${hazardId}/notice`, '/console/coverage',
      '/console/registers', '/console/exports', '/console/annual?year=2026', '/console/conflicts?all=1']) {
      const res = await small.goto(`${url}${page}`);
      assert(res.status() === 200, `${page}: ${res.status()}`);
      const width = await small.evaluate(() => document.documentElement.scrollWidth);
      assert(width <= 390, `${page} is ${width}px wide at 390`);
    }
    await small.goto(`${url}/console/`);
    await small.screenshot({ path: path.join(artefacts, 'dashboard-390.png'), fullPage: true });
    await phoneCtx.close();
  });

  // Administration (issue 15): the same officer keeps the township current from the console.
  await check('a place a worker registers on patrol shows as 新增 until the officer confirms it', async () => {
    phone('place', 'add', '--as', 'w04', '--grid', 'g04', '--type', '出租房', '--name',
      '巡查新发现出租屋', '--address', '西岭村 9 号', '--responsible', '赵六');
    phone('sync');
    await officer.goto(`${url}/console/admin/places?only=new`);
    const row = officer.getByRole('row', { name: /巡查新发现出租屋/ });
    await row.getByText('新增', { exact: true }).waitFor();
    await fitsWidth(officer);
    await officer.screenshot({ path: path.join(artefacts, 'admin-places-new.png'), fullPage: true });
    await row.getByRole('link', { name: '巡查新发现出租屋' }).click();
    await officer.getByRole('button', { name: '确认' }).click();
    await officer.getByText('已保存：确认新增场所').waitFor();
    assert(await officer.locator('h1 .badge.new').count() === 0, 'no longer marked 新增');
  });

  await check('an officer adds a place, and the worker phone receives it', async () => {
    await officer.goto(`${url}/console/admin/places`);
    const form = officer.locator('form', { has: officer.getByRole('button', { name: '新增' }) });
    await form.getByLabel('类型').selectOption('street_shop');
    await form.getByLabel('名称').fill('控制台新增便民店');
    await form.getByLabel('地址').fill('西岭村 12 号');
    await form.getByLabel('网格').selectOption('g04');
    await form.getByLabel('风险等级').selectOption('high');
    await form.getByLabel('负责人').fill('钱七');
    await form.getByRole('button', { name: '新增' }).click();
    await officer.getByText('已保存：新增场所').waitFor();
    await officer.screenshot({ path: path.join(artefacts, 'admin-place.png'), fullPage: true });
    phone('sync');
    const mine = phoneJson('places', '--as', 'w04').map((p) => p.place);
    const added = mine.find((p) => p.name === '控制台新增便民店');
    assert(added && added.risk_level === 'high', JSON.stringify(added));
  });

  await check('an officer disables a user, who can then no longer sign in', async () => {
    await officer.goto(`${url}/console/admin/people`);
    await fitsWidth(officer);
    await officer.locator('#user-w03').getByRole('button', { name: '停用' }).click();
    await officer.getByText('已保存：停用账号').waitFor();
    await officer.locator('#user-w03').getByText('已停用').waitFor();
    await officer.screenshot({ path: path.join(artefacts, 'admin-people.png'), fullPage: true });
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
    const page = await ctx.newPage();
    await page.goto(`${url}/console/login`);
    await page.getByLabel('账号').fill('w03');
    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').waitFor();
    assert(page.url().endsWith('/console/login'), page.url());
    await ctx.close();
  });

  await check('an officer starts a campaign, with its own figures on the dashboard', async () => {
    await officer.goto(`${url}/console/admin/campaigns`);
    await officer.getByLabel('名称').fill('出租房电动自行车专项行动');
    await officer.getByLabel('出租房', { exact: true }).check();
    await officer.getByLabel(/重点检查项/).selectOption([{ index: 0 }, { index: 1 }]);
    await officer.getByRole('button', { name: '开始' }).click();
    await officer.getByText('已保存：开始专项行动').waitFor();
    const row = officer.getByRole('row', { name: /出租房电动自行车专项行动/ });
    await row.getByText('进行中').waitFor();
    await fitsWidth(officer);
    await officer.screenshot({ path: path.join(artefacts, 'admin-campaigns.png'), fullPage: true });
    await officer.goto(`${url}/console/`);
    const onDashboard = officer.getByRole('row', { name: /出租房电动自行车专项行动/ });
    await onDashboard.waitFor();
    await officer.screenshot({ path: path.join(artefacts, 'dashboard-campaign.png'), fullPage: true });
    // Its export: the township, then each village and grid, from the same figures.
    const [download] = await Promise.all([
      officer.waitForEvent('download'),
      onDashboard.getByRole('link', { name: 'CSV' }).click(),
    ]);
    const file = path.join(artefacts, 'campaign.csv');
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert(lines.length === 1 + 1 + 3 + 8, `${lines.length} lines`);
    assert(lines[1].startsWith('出租房电动自行车专项行动,青石镇'), lines[1]);
  });

  await check('the township adds a checklist item of its own, which the worker phone receives', async () => {
    await officer.goto(`${url}/console/admin/checklists`);
    await officer.getByRole('link', { name: '出租房（群租房）检查表' }).click();
    await officer.getByLabel('检查项').fill('楼道内无电动自行车停放充电');
    await officer.getByLabel('隐患类别').selectOption('ebike');
    await officer.getByRole('button', { name: '发布新版本' }).click();
    await officer.getByText('已保存：发布第 2 版').waitFor();
    await fitsWidth(officer);
    await officer.screenshot({ path: path.join(artefacts, 'admin-checklist.png'), fullPage: true });
    phone('sync');
    const found = phoneJson('places', '--as', 'w04').find((p) => p.place.name === '巡查新发现出租屋');
    const form = phone('--json', 'form', found.place.id);
    assert(form.includes('楼道内无电动自行车停放充电'), 'the new item is on the phone');
  });

  await check('a village leader plans the patrols of a grid', async () => {
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
    const leader = await signIn(ctx, url, 'l02');
    await leader.goto(`${url}/console/admin/plans`);
    await leader.locator('select[name="grid"]').selectOption('g05');
    await leader.getByLabel('高风险', { exact: true }).check();
    await leader.getByLabel(/周期/).fill('7');
    await leader.getByRole('button', { name: '新增' }).click();
    await leader.getByText('已保存：新增巡查计划').waitFor();
    await leader.getByRole('row', { name: /西岭村第2网格.*执行中/ }).waitFor();
    await fitsWidth(leader);
    await leader.screenshot({ path: path.join(artefacts, 'admin-plans.png'), fullPage: true });
    // A leader keeps places, people and plans, not the township's areas or campaigns.
    for (const page of ['areas', 'campaigns', 'checklists', 'import']) {
      const res = await leader.goto(`${url}/console/admin/${page}`);
      assert(res.status() === 403, `${page}: ${res.status()}`);
    }
    await ctx.close();
  });

  await check('an officer moves a grid to another village', async () => {
    await officer.goto(`${url}/console/admin/areas`);
    const form = officer.locator('form', { has: officer.locator('input[value="move"]') });
    await form.getByLabel('网格').selectOption('g04');
    await form.getByLabel('调入村').selectOption('v01');
    await form.getByRole('button', { name: '保存' }).click();
    await officer.getByText('已保存：调整网格所属村').waitFor();
    const east = await officer.getByRole('row', { name: /东沟村/ }).textContent();
    assert(east.includes('g04'), east);
    await fitsWidth(officer);
    await officer.screenshot({ path: path.join(artefacts, 'admin-areas.png'), fullPage: true });
    // The village leader of 东沟村 now answers for the moved grid's places.
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
    const leader = await signIn(ctx, url, 'l01');
    await leader.goto(`${url}/console/admin/places?grid=g04`);
    await leader.getByRole('link', { name: '控制台新增便民店' }).waitFor();
    await ctx.close();
  });

  await check('every administration page fits 1366x768 without sideways scrolling', async () => {
    for (const page of ['places', 'people', 'plans', 'areas', 'campaigns', 'checklists',
      'checklists/rental', 'import']) {
      const res = await officer.goto(`${url}/console/admin/${page}`);
      assert(res.status() === 200, `${page}: ${res.status()}`);
      await fitsWidth(officer);
    }
  });

  await officerCtx.close();
} finally {
  await browser.close();
  server.child.kill();
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(`screenshots and the ledger: ${artefacts}`);
process.exit(failures ? 1 : 0);
