#!/usr/bin/env node
// Starts the native mcpauth binary for this platform, from the optional package npm
// installed beside this one (@mcpauth/<platform>-<arch>), and gets out of its way: the
// binary inherits stdin, stdout and stderr themselves (so a proxy's stdio stays byte for
// byte what the binary writes and reads), the arguments go on unchanged, signals sent to
// this process are passed on, and this process ends as the binary did: with its exit
// code, or by the same signal.
'use strict';

const { spawn } = require('child_process');
const path = require('path');

const PLATFORMS = ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-x64'];
const platform = `${process.platform}-${process.arch}`;
const name = `@mcpauth/${platform}`;

function fail(message) {
  process.stderr.write(`mcpauth: ${message}\n`);
  process.exit(1);
}

if (!PLATFORMS.includes(platform)) {
  fail(
    `there is no prebuilt binary for ${platform} (there are for ${PLATFORMS.join(', ')}).\n` +
      'Build it from source instead: cargo install mcpauth',
  );
}

let binary;
try {
  const dir = path.dirname(require.resolve(`${name}/package.json`));
  binary = path.join(dir, 'bin', process.platform === 'win32' ? 'mcpauth.exe' : 'mcpauth');
} catch {
  fail(
    `the package ${name}, which holds the binary for this platform, is not installed.\n` +
      'npm leaves it out when optional dependencies are omitted (--omit=optional, ' +
      '--no-optional) or when the lockfile came from another platform.\n' +
      `Install it with: npm install ${name}@${require('../package.json').version}`,
  );
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', windowsHide: false });

// A host stopping its server signals this process; the binary decides what the signal
// means (the proxy closes its session and exits). Terminal Ctrl-C reaches both already,
// and mcpauth takes a repeated SIGINT the same as one.
const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGBREAK'];
const relays = {};
for (const signal of forwarded) {
  relays[signal] = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  try {
    process.on(signal, relays[signal]);
  } catch {
    // Not a signal on this platform (SIGBREAK outside Windows, SIGUSR1 on Windows).
  }
}

child.on('error', (e) => fail(`cannot start ${binary}: ${e.message}`));
child.on('exit', (code, signal) => {
  if (signal) {
    // End the same way, so a parent sees "killed by SIGTERM", not an exit code.
    for (const s of forwarded) if (relays[s]) process.removeListener(s, relays[s]);
    process.kill(process.pid, signal);
    // Where a signal cannot end this process (Windows), the shell convention.
    process.exit(128 + (require('os').constants.signals[signal] || 0));
  }
  process.exit(code === null ? 1 : code);
});
