'use strict';
// `make-archive` and `serve-archive`: the engine's Old Faithful writer and loopback server,
// for offline tests and mirrors of your own.

const fs = require('node:fs');
const { writeArchive } = require('../archive');
const { serveArchive } = require('../archive-server');
const { UsageError, parse, integer } = require('./args');

const MAKE_HELP = `Usage: uho-backfill make-archive SPEC.json DIR

Writes an Old Faithful-layout archive (N/epoch-N.car and N/epoch-N-slot-ranges.raw for every
epoch the blocks touch) from a JSON description: { "blocks": [{ "slot", "blockTime",
"transactions": [...] }] }, transactions in the shape startBackfill delivers them.
See ArchiveSpec in the package's types.

  -h, --help              this help
`;

const SERVE_HELP = `Usage: uho-backfill serve-archive DIR [--port P] [--host H]

Serves an archive folder over HTTP with Range and HEAD, as Old Faithful does, until Ctrl-C.
Pass the printed URL as --archive-url.

  --port P                port (default: a free one)
  --host H                address to listen on (default 127.0.0.1)
  -h, --help              this help
`;

async function makeArchive(argv, io) {
  const { values, positionals } = parse(argv, {}, { positionals: 2 });
  if (values.help) {
    io.stdout.write(MAKE_HELP);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError('make-archive needs SPEC.json and DIR');
  const [specFile, dir] = positionals;
  let spec;
  try {
    spec = fs.readFileSync(specFile, 'utf8');
  } catch (error) {
    throw new UsageError(`SPEC.json ${specFile}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  }
  const epochs = await writeArchive(spec, dir);
  for (const written of epochs) io.stdout.write(`${JSON.stringify(written)}\n`);
  return 0;
}

async function serveArchiveCommand(argv, io) {
  const { values, positionals } = parse(argv, { port: { type: 'string' }, host: { type: 'string' } }, { positionals: 1 });
  if (values.help) {
    io.stdout.write(SERVE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('serve-archive needs DIR');
  const [dir] = positionals;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`DIR ${dir} is not a directory`);
  const server = await serveArchive(dir, { port: integer('--port', values.port, { max: 65535 }) ?? 0, host: values.host ?? '127.0.0.1' });
  io.stdout.write(`${server.url}\n`);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}

module.exports = { makeArchive, serveArchiveCommand, MAKE_HELP, SERVE_HELP };
