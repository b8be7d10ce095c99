#!/usr/bin/env node
// A `solc`-style command line over solc-js, for tools that expect a native solc binary.
// Supported: `--version` and `--standard-json` (standard JSON input on stdin, output on stdout), which
// is all poai uses. Runs offline: the compiler is the npm package installed beside this file.
'use strict';
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('this wrapper supports only --version and --standard-json\n');
  process.exit(2);
}
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  process.stdout.write(solc.compile(input));
});
