/**
 * `npm run conformance -- <bit-broker checkout> [test files…] [options]`
 *
 * Runs BitBroker's own HTTP test suite (`<checkout>/tests`, mocha + chakram)
 * against the running platform, unchanged except for two adaptations made
 * from outside the test code:
 *   - base URLs and bootstrap user through the environment the harness reads;
 *   - the harness's direct SQL resets (`lib/shared.js`) replaced at load time
 *     by tools/conformance/reset-hook.js, which resets our database instead.
 *
 * The tests are copied to .conformance/tests (git-ignored) with their npm
 * dependencies installed once per package.json/package-lock.json hash under
 * .conformance/deps/. Each file is one mocha process; results go to
 * .conformance/report.json and the logs to .conformance/logs/. See docs/conformance.md.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import { lookup } from 'dns/promises';
import {
  appendFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'fs';
import { basename, dirname, join, relative, resolve } from 'path';
import { parseArgs } from 'util';

const ROOT = resolve(__dirname, '..', '..');
const SCRATCH = join(ROOT, '.conformance');
const LOGS = join(SCRATCH, 'logs');
const HOOK = join(__dirname, 'reset-hook.js');
const REPORTER = join(__dirname, 'reporter.js');

/** BitBroker's tests/all.js order. */
const DEFAULT_FILES = ['coordinator.js', 'search.js', 'contributor.js', 'sessions.js', 'consumer.js', 'policy.js', 'user.js', 'access.js', 'end2end.js'];
/** Files that start the test webhook at http://bbkt-webhook:8888/ and need the services to reach it. */
const WEBHOOK_FILES = new Set(['consumer.js', 'seed.js']);
const WEBHOOK_HOST = 'bbkt-webhook';
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/odb';

const USAGE = `usage: npm run conformance -- <bit-broker checkout> [test files…] [options]

  <bit-broker checkout>   a bit-broker work tree (containing tests/) or its tests/ directory
  [test files…]           e.g. coordinator.js user (default: ${DEFAULT_FILES.join(' ')})

options:
  --host <name>           host of the three services (default $CONFORMANCE_HOST or 127.0.0.1)
  --coordinator <url>     coordinator base (default $TESTS_COORDINATOR or http://<host>:8001/v1)
  --contributor <url>     contributor base (default $TESTS_CONTRIBUTOR or http://<host>:8002/v1)
  --consumer <url>        consumer base    (default $TESTS_CONSUMER or http://<host>:8003/v1)
  --database <url>        our PostgreSQL, reset between files (default $DATABASE_URL or ${DEFAULT_DATABASE_URL})
  --production            token mode: TESTS_LOCAL_MODE=false, TESTS_BOOTSTRAP_KEY from $TESTS_BOOTSTRAP_KEY
                          or the bootstrap token file (services started without AUTH_MODE=local)
  --token-file <path>     bootstrap token file (default $BOOTSTRAP_TOKEN_FILE or var/bootstrap-coordinator.token)
  --grep <pattern>        passed to mocha --grep
  --file-timeout <min>    kill a test file's mocha after this many minutes (default 60)
  --verbose               also stream the mocha output to the terminal
  -h, --help              this text
`;

interface Options {
  checkout: string;
  testsDir: string;
  files: string[];
  coordinator: string;
  contributor: string;
  consumer: string;
  databaseUrl: string;
  production: boolean;
  tokenFile: string;
  grep?: string;
  fileTimeoutMs: number;
  verbose: boolean;
}

interface TestResult {
  title: string;
  fullTitle: string;
  type?: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: { message: string; expected?: string; actual?: string; stack?: string };
}

interface FileResult {
  file: string;
  exitCode: number | null;
  passed: number;
  failed: number;
  pending: number;
  notRun: number;
  planned: number;
  durationMs: number;
  log: string;
  problem?: string;
  tests: TestResult[];
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const environment = await prepareEnvironment(options);
  await ensureWebhookHost(options.files);
  const mocha = await prepareTests(options.testsDir);

  mkdirSync(LOGS, { recursive: true });
  const results: FileResult[] = [];
  for (const file of options.files) {
    process.stdout.write(`▶ ${file} `);
    const result = await runFile(file, mocha, environment, options);
    results.push(result);
    process.stdout.write(
      `${result.passed} passed, ${result.failed} failed, ${result.pending} pending${result.notRun ? `, ${result.notRun} not run` : ''}` +
        ` (${seconds(result.durationMs)})${result.problem ? ` — ${result.problem}` : ''}  log: ${relative(ROOT, result.log)}\n`,
    );
  }

  const passed = sum(results, 'passed');
  const failed = sum(results, 'failed');
  const report = {
    at: new Date().toISOString(),
    checkout: options.checkout,
    commit: await gitCommit(options.checkout),
    mode: options.production ? 'production' : 'local',
    targets: { coordinator: options.coordinator, contributor: options.contributor, consumer: options.consumer },
    totals: { passed, failed, pending: sum(results, 'pending'), notRun: sum(results, 'notRun') },
    files: results,
  };
  writeFileSync(join(SCRATCH, 'report.json'), JSON.stringify(report, null, 2));

  printFailures(results);
  printTable(results);
  process.stdout.write(`report: ${relative(ROOT, join(SCRATCH, 'report.json'))}\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

// --- options ---------------------------------------------------------------

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        coordinator: { type: 'string' },
        contributor: { type: 'string' },
        consumer: { type: 'string' },
        database: { type: 'string' },
        production: { type: 'boolean', default: false },
        'token-file': { type: 'string' },
        grep: { type: 'string' },
        'file-timeout': { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const [checkoutArg, ...fileArgs] = positionals;
  if (!checkoutArg) throw new UsageError('the path to a bit-broker checkout is required');

  const checkout = resolve(checkoutArg);
  const testsDir = [join(checkout, 'tests'), checkout].find((dir) => existsSync(join(dir, 'lib', 'shared.js')) && existsSync(join(dir, 'package.json')));
  if (!testsDir) throw new UsageError(`${checkout} is not a bit-broker checkout: no tests/lib/shared.js in it`);

  const files = (fileArgs.length > 0 ? fileArgs : DEFAULT_FILES).map((name) => {
    const file = basename(name).endsWith('.js') ? basename(name) : `${basename(name)}.js`;
    if (!existsSync(join(testsDir, file))) throw new UsageError(`no test file ${file} in ${testsDir}`);
    return file;
  });

  const host = values.host ?? process.env.CONFORMANCE_HOST ?? '127.0.0.1';
  const base = (flag: string | undefined, env: string, port: number) => (flag ?? process.env[env] ?? `http://${host}:${port}/v1`).replace(/\/+$/, '');
  const minutes = Number(values['file-timeout'] ?? 60);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new UsageError('--file-timeout must be a positive number of minutes');

  return {
    checkout,
    testsDir,
    files,
    coordinator: base(values.coordinator, 'TESTS_COORDINATOR', 8001),
    contributor: base(values.contributor, 'TESTS_CONTRIBUTOR', 8002),
    consumer: base(values.consumer, 'TESTS_CONSUMER', 8003),
    databaseUrl: values.database ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    production: values.production ?? false,
    tokenFile: resolve(ROOT, values['token-file'] ?? process.env.BOOTSTRAP_TOKEN_FILE ?? 'var/bootstrap-coordinator.token'),
    grep: values.grep,
    fileTimeoutMs: minutes * 60_000,
    verbose: values.verbose ?? false,
  };
}

// --- pre-flight: services, token, bootstrap user ---------------------------

async function prepareEnvironment(options: Options): Promise<NodeJS.ProcessEnv> {
  const services = [
    { name: 'coordinator', url: options.coordinator },
    { name: 'contributor', url: options.contributor },
    { name: 'consumer', url: options.consumer },
  ];
  const down: string[] = [];
  for (const service of services) {
    const problem = await checkAnnounce(service.name, service.url);
    if (problem) down.push(`  ${service.name.padEnd(12)} ${service.url}: ${problem}`);
  }
  if (down.length > 0) {
    throw new Error(
      `not every service answers its announce document:\n${down.join('\n')}\n` +
        `start the platform from ${ROOT} with:\n  ${options.production ? 'npm start' : 'AUTH_MODE=local npm start'}\n` +
        `(or point the runner at it with --host / --coordinator / --contributor / --consumer)`,
    );
  }

  let token = '';
  if (options.production) {
    token = process.env.TESTS_BOOTSTRAP_KEY?.trim() || (existsSync(options.tokenFile) ? readFileSync(options.tokenFile, 'utf8').trim() : '');
    if (!token) {
      throw new Error(`--production needs the bootstrap coordinator token: set TESTS_BOOTSTRAP_KEY or create ${relative(ROOT, options.tokenFile)} (written by the coordinator on first start)`);
    }
  }

  const user = await fetchJson(`${options.coordinator}/user/1`, token ? { 'x-bbk-auth-token': token } : {});
  if (user.status !== 200 || typeof user.body !== 'object' || user.body === null) {
    const hint =
      user.status === 401 || user.status === 403
        ? options.production
          ? ' (is the bootstrap token right for this database?)'
          : ' (the coordinator wants a token: start it with AUTH_MODE=local, or run with --production)'
        : '';
    throw new Error(`could not read the bootstrap user: GET ${options.coordinator}/user/1 gave ${user.status}${hint}`);
  }
  const admin = user.body as { name?: string; email?: string; organization?: string };
  if (!admin.name || !admin.email || !admin.organization) {
    throw new Error(`GET ${options.coordinator}/user/1 lacks name, email or organization: ${JSON.stringify(admin)}`);
  }

  const mode = options.production ? 'production (token) mode' : 'local mode';
  process.stdout.write(
    `conformance: ${mode}; coordinator ${options.coordinator}, contributor ${options.contributor}, consumer ${options.consumer}\n` +
      `conformance: bootstrap user 1 is ${admin.name} <${admin.email}> (${admin.organization}); resets go to ${redact(options.databaseUrl)}\n`,
  );

  return {
    ...process.env,
    TESTS_COORDINATOR: options.coordinator,
    TESTS_CONTRIBUTOR: options.contributor,
    TESTS_CONSUMER: options.consumer,
    TESTS_LOCAL_MODE: options.production ? 'false' : 'true',
    TESTS_BOOTSTRAP_KEY: token || 'unused-in-local-mode',
    BOOTSTRAP_USER_NAME: admin.name,
    BOOTSTRAP_USER_EMAIL: admin.email,
    BOOTSTRAP_USER_ORG: admin.organization,
    // lib/shared.js calls APP_DATABASE.replace('CREDENTIALS', TESTS_USER) when loaded; the hook replaces its knex use.
    APP_DATABASE: 'postgresql://CREDENTIALS@unused.invalid/unused',
    TESTS_USER: 'unused:unused',
    CONFORMANCE_DATABASE_URL: options.databaseUrl,
  };
}

async function checkAnnounce(name: string, url: string): Promise<string | null> {
  const response = await fetchJson(url, {});
  if (response.status === 0) return `no answer (${response.error})`;
  if (response.status !== 200) return `HTTP ${response.status}`;
  const body = response.body as { name?: unknown } | null;
  if (!body || typeof body.name !== 'string' || !body.name.includes(name)) {
    return `the announce document does not name the ${name} service: ${JSON.stringify(body)}`;
  }
  return null;
}

async function fetchJson(url: string, headers: Record<string, string>): Promise<{ status: number; body?: unknown; error?: string }> {
  try {
    const response = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
    return { status: 0, error: cause ?? (error instanceof Error ? error.message : String(error)) };
  }
}

// --- the tests and their dependencies --------------------------------------

/** Copies the tests to .conformance/tests and links the cached dependencies; returns mocha's bin path. */
async function prepareTests(testsDir: string): Promise<string> {
  const manifests = ['package.json', 'package-lock.json'].filter((name) => existsSync(join(testsDir, name)));
  const hash = createHash('sha256');
  for (const name of manifests) hash.update(name).update('\0').update(readFileSync(join(testsDir, name))).update('\0');
  const key = hash.digest('hex').slice(0, 16);
  const depsDir = join(SCRATCH, 'deps', key);

  if (!existsSync(join(depsDir, '.complete'))) {
    const staging = `${depsDir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    for (const name of manifests) cpSync(join(testsDir, name), join(staging, name));
    mkdirSync(LOGS, { recursive: true });
    const log = join(LOGS, 'npm-install.log');
    const useCi = manifests.includes('package-lock.json');
    process.stdout.write(`conformance: installing the test dependencies (${useCi ? 'npm ci' : 'npm install'}) into ${relative(ROOT, depsDir)} …\n`);
    let code = await npm(useCi ? ['ci'] : ['install'], staging, log);
    if (code !== 0 && useCi) {
      process.stdout.write('conformance: npm ci failed, trying npm install\n');
      code = await npm(['install'], staging, log);
    }
    if (code !== 0) throw new Error(`npm could not install the test dependencies; see ${relative(ROOT, log)}`);
    writeFileSync(join(staging, '.complete'), `${new Date().toISOString()}\n`);
    rmSync(depsDir, { recursive: true, force: true });
    renameSync(staging, depsDir);
  }

  const copy = join(SCRATCH, 'tests');
  rmSync(copy, { recursive: true, force: true });
  cpSync(testsDir, copy, {
    recursive: true,
    filter: (source) => {
      const name = basename(source);
      return name !== 'node_modules' && name !== '.env';
    },
  });
  symlinkSync(relative(copy, join(depsDir, 'node_modules')), join(copy, 'node_modules'), 'dir');

  const mochaPackage = join(depsDir, 'node_modules', 'mocha', 'package.json');
  if (!existsSync(mochaPackage)) throw new Error(`mocha is not among the test dependencies (${mochaPackage} missing)`);
  const { bin } = JSON.parse(readFileSync(mochaPackage, 'utf8')) as { bin?: string | Record<string, string> };
  const relativeBin = typeof bin === 'string' ? bin : (bin?.mocha ?? 'bin/mocha.js');
  return join(dirname(mochaPackage), relativeBin);
}

function npm(args: string[], cwd: string, log: string): Promise<number> {
  const execPath = process.env.npm_execpath;
  const [command, commandArgs] = execPath && execPath.endsWith('.js') ? [process.execPath, [execPath, ...args]] : ['npm', args];
  const out = createWriteStream(log, { flags: 'a' });
  return new Promise((resolveCode) => {
    const child = spawn(command, [...commandArgs, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', (error) => {
      out.end(`${error.message}\n`);
      resolveCode(1);
    });
    child.on('close', (code) => {
      out.end();
      resolveCode(code ?? 1);
    });
  });
}

// --- webhook host ----------------------------------------------------------

async function ensureWebhookHost(files: string[]): Promise<void> {
  const needed = files.filter((file) => WEBHOOK_FILES.has(file));
  if (await resolves(WEBHOOK_HOST)) return;
  if (needed.length === 0) {
    process.stdout.write(`conformance: note: ${WEBHOOK_HOST} does not resolve; not needed by these files (consumer.js needs it)\n`);
    return;
  }
  const entry = `127.0.0.1 ${WEBHOOK_HOST}`;
  if (process.getuid?.() === 0) {
    const hosts = existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : '';
    appendFileSync('/etc/hosts', `${hosts === '' || hosts.endsWith('\n') ? '' : '\n'}${entry}   # added by npm run conformance (BitBroker test webhook)\n`);
    process.stdout.write(`conformance: ${WEBHOOK_HOST} did not resolve; added "${entry}" to /etc/hosts (running as root)\n`);
    if (!(await resolves(WEBHOOK_HOST))) throw new Error(`${WEBHOOK_HOST} still does not resolve after editing /etc/hosts`);
    return;
  }
  throw new Error(
    `${needed.join(', ')} ${needed.length === 1 ? 'starts' : 'start'} a webhook at http://${WEBHOOK_HOST}:8888/ that the consumer service must call, but ${WEBHOOK_HOST} does not resolve.\n` +
      `Add this line to /etc/hosts (as root) on the machine running the tests and the services, then rerun:\n  ${entry}`,
  );
}

async function resolves(host: string): Promise<boolean> {
  try {
    await lookup(host);
    return true;
  } catch {
    return false;
  }
}

// --- running one file ------------------------------------------------------

async function runFile(file: string, mochaBin: string, environment: NodeJS.ProcessEnv, options: Options): Promise<FileResult> {
  const name = file.replace(/\.js$/, '');
  const log = join(LOGS, `${name}.log`);
  const reportFile = join(SCRATCH, 'results', `${name}.json`);
  rmSync(reportFile, { force: true });
  const args = [mochaBin, '--no-config', '--no-package', '--exit', '--require', HOOK, '--reporter', REPORTER];
  if (options.grep) args.push('--grep', options.grep);
  args.push(file);

  const started = Date.now();
  const out = createWriteStream(log);
  const shown = args.map((arg) => (arg.startsWith('/') ? relative(join(SCRATCH, 'tests'), arg) : arg));
  out.write(`# ${new Date().toISOString()} in ${relative(ROOT, join(SCRATCH, 'tests'))}: node ${shown.join(' ')}\n`);
  let timedOut = false;
  const exitCode = await new Promise<number | null>((resolveCode) => {
    const child: ChildProcess = spawn(process.execPath, args, {
      cwd: join(SCRATCH, 'tests'),
      env: { ...environment, CONFORMANCE_REPORT_FILE: reportFile },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout kills what the tests started too
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        out.write(chunk);
        if (options.verbose) process.stdout.write(chunk);
      });
    }
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.fileTimeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      out.write(`${error.message}\n`);
      resolveCode(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveCode(code);
    });
  });
  await new Promise<void>((done) => out.end(done));
  const durationMs = Date.now() - started;

  const result: FileResult = { file, exitCode, passed: 0, failed: 0, pending: 0, notRun: 0, planned: 0, durationMs, log, tests: [] };
  if (existsSync(reportFile)) {
    const parsed = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      stats: { planned: number; passed: number; failed: number; pending: number; notRun: number };
      tests: TestResult[];
    };
    Object.assign(result, {
      passed: parsed.stats.passed,
      failed: parsed.stats.failed,
      pending: parsed.stats.pending,
      notRun: parsed.stats.notRun,
      planned: parsed.stats.planned,
      tests: parsed.tests,
    });
  }
  if (timedOut || !existsSync(reportFile)) {
    // A crash or a hang: whatever ran is unknown or incomplete, so the file counts one more failure.
    result.problem = timedOut ? `killed after ${seconds(options.fileTimeoutMs)}` : `mocha exited with ${exitCode} without a report`;
    result.failed += 1;
    result.tests.push({ title: result.problem, fullTitle: `${file}: ${result.problem}`, state: 'failed', error: { message: `${result.problem}; see ${relative(ROOT, log)}` } });
  }
  return result;
}

// --- output ----------------------------------------------------------------

function printFailures(results: FileResult[]): void {
  const failing = results.filter((result) => result.tests.some((test) => test.state === 'failed'));
  if (failing.length === 0) return;
  process.stdout.write('\nfailures:\n');
  for (const result of failing) {
    process.stdout.write(`  ${result.file}\n`);
    for (const test of result.tests.filter((item) => item.state === 'failed')) {
      const message = (test.error?.message ?? '').split('\n')[0];
      process.stdout.write(`    ✗ ${test.fullTitle}\n        ${message.length > 300 ? `${message.slice(0, 300)}…` : message}\n`);
    }
  }
}

function printTable(results: FileResult[]): void {
  const rows = results.map((r) => [r.file, r.passed, r.failed, r.pending, r.notRun, seconds(r.durationMs)]);
  rows.push(['total', sum(results, 'passed'), sum(results, 'failed'), sum(results, 'pending'), sum(results, 'notRun'), seconds(results.reduce((t, r) => t + r.durationMs, 0))]);
  const header = ['file', 'passed', 'failed', 'pending', 'not run', 'time'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells: Array<string | number>) => cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  rows.forEach((row, i) => {
    if (i === rows.length - 1) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
    process.stdout.write(`${line(row)}\n`);
  });
}

function sum(results: FileResult[], field: 'passed' | 'failed' | 'pending' | 'notRun'): number {
  return results.reduce((total, result) => total + result[field], 0);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

async function gitCommit(checkout: string): Promise<string | undefined> {
  return new Promise((resolveCommit) => {
    const child = spawn('git', ['-C', checkout, 'rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', () => resolveCommit(undefined));
    child.on('close', (code) => resolveCommit(code === 0 ? text.trim() : undefined));
  });
}

main().catch((error) => {
  if (error instanceof UsageError) {
    process.stderr.write(`conformance: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`conformance: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
