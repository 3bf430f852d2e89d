'use strict';
/**
 * Mocha reporter used by `npm run conformance`: prints spec-like lines (the
 * runner sends them to .conformance/logs/<file>.log) and, when the run ends,
 * writes a JSON result to CONFORMANCE_REPORT_FILE (or `--reporter-option output=…`).
 *
 * Hook failures (e.g. a failing `before all`) count as failures; the tests
 * they prevented from running are reported as `notRun` (planned - ran).
 */

const fs = require('fs');
const path = require('path');

const MAX_TEXT = 4000;

function ConformanceReporter(runner, options = {}) {
  const reporterOptions = options.reporterOption || options.reporterOptions || {};
  const output = process.env.CONFORMANCE_REPORT_FILE || reporterOptions.output;
  const started = Date.now();
  const results = [];
  let depth = 0;
  let passed = 0;
  let failed = 0;
  let pending = 0;
  let testsFailed = 0;

  const write = (line) => process.stdout.write(`${'  '.repeat(Math.max(depth, 0))}${line}\n`);

  runner.on('suite', (suite) => {
    if (!suite.root) write(clean(suite.title));
    depth += 1;
  });
  runner.on('suite end', () => {
    depth -= 1;
  });
  runner.on('pass', (test) => {
    passed += 1;
    results.push(entry(test, 'passed'));
    write(`✓ ${clean(test.title)} (${test.duration ?? 0}ms)`);
  });
  runner.on('pending', (test) => {
    pending += 1;
    results.push(entry(test, 'pending'));
    write(`- ${clean(test.title)}`);
  });
  runner.on('fail', (test, error) => {
    failed += 1;
    if (test.type !== 'hook') testsFailed += 1;
    results.push(entry(test, 'failed', error));
    write(`✗ ${clean(test.title)}`);
    for (const line of describeError(error).split('\n')) write(`    ${line}`);
  });
  runner.once('end', () => {
    const planned = typeof runner.total === 'number' ? runner.total : passed + testsFailed + pending;
    const stats = {
      planned,
      passed,
      failed,
      pending,
      notRun: Math.max(0, planned - passed - testsFailed - pending),
      durationMs: Date.now() - started,
    };
    depth = 0;
    write('');
    write(`${passed} passing, ${failed} failing, ${pending} pending, ${stats.notRun} not run`);
    if (output) {
      fs.mkdirSync(path.dirname(output), { recursive: true });
      fs.writeFileSync(output, JSON.stringify({ stats, tests: results }, null, 2));
    }
  });
}

function entry(test, state, error) {
  const item = {
    title: clean(test.title),
    fullTitle: clean(typeof test.fullTitle === 'function' ? test.fullTitle() : test.title),
    file: test.file ? path.basename(test.file) : undefined,
    type: test.type,
    state,
    durationMs: test.duration,
  };
  if (error) {
    item.error = {
      message: truncate(error && error.message !== undefined ? String(error.message) : String(error)),
      expected: error && 'expected' in error ? truncate(stringify(error.expected)) : undefined,
      actual: error && 'actual' in error ? truncate(stringify(error.actual)) : undefined,
      stack: error && error.stack ? truncate(String(error.stack).split('\n').slice(0, 6).join('\n')) : undefined,
    };
  }
  return item;
}

function describeError(error) {
  const message = error && error.message !== undefined ? String(error.message) : String(error);
  const lines = [truncate(message, 1000)];
  if (error && error.showDiff !== false && 'expected' in error && 'actual' in error) {
    lines.push(`expected: ${truncate(stringify(error.expected), 500)}`);
    lines.push(`actual:   ${truncate(stringify(error.actual), 500)}`);
  }
  return lines.join('\n');
}

function stringify(value) {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function clean(text) {
  return String(text ?? '').replace(/\s+/g, ' ').trim();
}

function truncate(text, max = MAX_TEXT) {
  const value = String(text ?? '');
  return value.length > max ? `${value.slice(0, max)}… (${value.length - max} more characters)` : value;
}

module.exports = ConformanceReporter;
