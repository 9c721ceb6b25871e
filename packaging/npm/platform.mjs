// Writes the npm package that carries mcpauth's binary for one platform, ready for
// `npm pack` or `npm publish`: @mcpauth/<platform>, at the launcher's version, with the
// `os` and `cpu` fields that make npm install it only where it runs.
//
//   node packaging/npm/platform.mjs <platform> <binary> <out-dir>
//
// <platform> is one of the launcher's (darwin-arm64, darwin-x64, linux-arm64, linux-x64,
// win32-x64); <binary> is mcpauth built for it; <out-dir> is created (and must be empty
// or absent).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const launcher = JSON.parse(fs.readFileSync(path.join(here, 'mcpauth', 'package.json'), 'utf8'));

const [platform, binary, out] = process.argv.slice(2);
const fail = (message) => {
  console.error(`platform.mjs: ${message}`);
  process.exit(1);
};
if (!platform || !binary || !out) fail('usage: node platform.mjs <platform> <binary> <out-dir>');
const name = `@mcpauth/${platform}`;
if (!(name in launcher.optionalDependencies)) {
  fail(`unknown platform ${platform}; the launcher knows ${Object.keys(launcher.optionalDependencies).join(', ')}`);
}
if (!fs.statSync(binary, { throwIfNoEntry: false })?.isFile()) fail(`no binary at ${binary}`);
if (fs.existsSync(out) && fs.readdirSync(out).length > 0) fail(`${out} is not empty`);

const [os, cpu] = platform.split('-');
const exe = os === 'win32' ? 'mcpauth.exe' : 'mcpauth';
fs.mkdirSync(path.join(out, 'bin'), { recursive: true });
fs.copyFileSync(binary, path.join(out, 'bin', exe));
fs.chmodSync(path.join(out, 'bin', exe), 0o755);

const manifest = {
  name,
  version: launcher.version,
  description: `The mcpauth binary for ${platform}; installed by the \`mcpauth\` package`,
  license: launcher.license,
  homepage: launcher.homepage,
  repository: launcher.repository,
  os: [os],
  cpu: [cpu],
  files: [`bin/${exe}`],
  // Yarn PnP and similar keep package files zipped unless told; a binary must be on disk.
  preferUnplugged: true,
};
fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
fs.writeFileSync(
  path.join(out, 'README.md'),
  `# ${name}\n\nThe prebuilt \`mcpauth\` binary for ${platform}. Install \`mcpauth\` instead; it picks this package on ${platform}.\n`,
);
console.log(out);
