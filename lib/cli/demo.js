'use strict';
// `uho-backfill demo`: the whole pipeline with no network. It generates a few epochs of a
// sample Anchor program's activity, writes them as an Old Faithful archive, serves that on
// 127.0.0.1 and runs `run --out` against it, then checks what it found against what it wrote.

const fs = require('node:fs');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const { demoActivity } = require('../demo/activity');
const { writeArchive } = require('../archive');
const { serveArchive } = require('../archive-server');
const { parse } = require('./args');
const { run } = require('./run');
const { FILES, CHECKPOINT } = require('./out-dir');

const HELP = `Usage: uho-backfill demo [--dir DIR] [--json]

Runs offline: generates three epochs of activity of a sample Anchor program (events in logs
and through emit_cpi!), writes them as an Old Faithful archive, serves it on 127.0.0.1, and
backfills it with \`run --out\` into DIR, decoding with the program's IDL. Start here.

  --dir DIR               where to put everything (default ./uho-backfill-demo)
  --json                  JSON progress lines and summary, as \`run --json\`
  -h, --help              this help
`;

async function demo(argv, io) {
  const { values } = parse(argv, { dir: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const dir = path.resolve(values.dir ?? 'uho-backfill-demo');
  const archiveDir = path.join(dir, 'archive');
  // A demo starts over: last time's outputs would otherwise be resumed.
  for (const name of [...Object.values(FILES), CHECKPOINT]) await fs.promises.rm(path.join(dir, name), { force: true });
  await fs.promises.rm(archiveDir, { recursive: true, force: true });
  await fs.promises.mkdir(dir, { recursive: true });

  const activity = demoActivity();
  const idlFile = path.join(dir, 'uho_demo.idl.json');
  await fs.promises.writeFile(idlFile, `${JSON.stringify(activity.idl, null, 2)}\n`);
  const epochs = await writeArchive(activity.spec, archiveDir);
  const server = await serveArchive(archiveDir);
  const say = (line) => io.stderr.write(`${line}\n`);
  say(`Sample program ${activity.programId} (IDL: ${idlFile})`);
  say(`Archive: ${activity.transactions} transactions in epochs ${epochs[0].epoch}-${epochs.at(-1).epoch}, ${activity.spec.blocks.length} blocks, in ${archiveDir}`);
  say(`Serving it at ${server.url}\n`);
  const args = ['--program', activity.programId, '--slots', `${activity.startSlot}:${activity.endSlot}`, '--idl', idlFile, '--archive-url', server.url, '--out', dir];
  if (values.json) args.push('--json');
  let code;
  try {
    code = await run(args, io);
  } finally {
    await server.close();
  }
  if (code !== 0) return code;

  const found = fs.readFileSync(path.join(dir, FILES.events), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const byName = (events) => events.reduce((counts, e) => ({ ...counts, [e.eventName]: (counts[e.eventName] ?? 0) + 1 }), {});
  const want = byName(activity.events);
  const got = byName(found);
  const same = isDeepStrictEqual(want, got);
  say(`\nEvents found: ${Object.entries(got).map(([name, n]) => `${n} ${name}`).join(', ')} (the generator wrote ${activity.events.length}: ${same ? 'all found' : 'MISMATCH'})`);
  say(`Look at:\n  ${path.join(dir, FILES.events)}\n  ${path.join(dir, FILES.transactions)}\n  ${path.join(dir, FILES.instructions)}\n  ${path.join(dir, CHECKPOINT)}`);
  say(`The same run by hand (the archive server is gone; start one with serve-archive):\n  uho-backfill run ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  return same ? 0 : 1;
}

module.exports = { demo, HELP };
