#!/usr/bin/env node
// `npm run lockfile:platforms`: the registry this project is built from serves
// only linux-x64 builds of native packages, so npm leaves the other platforms'
// optional binaries (@swc/core-darwin-arm64, …) out of package-lock.json, and
// `npm ci` then refuses the lockfile as out of sync. This adds the missing
// entries with their os/cpu/libc constraints: `npm ci` skips them on this
// platform and fetches them by version elsewhere. Run it after changing
// dependencies; it only adds what is missing.
const { readFileSync, writeFileSync } = require('fs');
const { join } = require('path');

const file = join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8'));
const OSES = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openbsd', 'sunos', 'aix', 'netbsd'];
const CPUS = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];
const added = [];

for (const [path, meta] of Object.entries(lock.packages)) {
  for (const [dependency, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dependency}`;
    if (lock.packages[key] || (path && lock.packages[`${path}/node_modules/${dependency}`])) continue;
    const name = dependency.split('/').pop();
    const os = OSES.find((candidate) => name.includes(candidate));
    const cpu = CPUS.find((candidate) => new RegExp(`(^|-)${candidate}($|-)`).test(name));
    if (!os && !cpu) continue; // not a platform binary: leave npm's judgement alone
    const entry = { version, optional: true };
    if (cpu) entry.cpu = [cpu];
    if (os) entry.os = [os];
    if (name.includes('musl')) entry.libc = ['musl'];
    else if (os === 'linux' && name.includes('gnu')) entry.libc = ['glibc'];
    lock.packages[key] = entry;
    added.push(`${dependency}@${version}`);
  }
}

writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(added.length > 0 ? `added ${added.length} platform entries:\n  ${added.join('\n  ')}\n` : 'nothing missing\n');
