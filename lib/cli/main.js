#!/usr/bin/env node
'use strict';
// The `uho-backfill` command: dispatches to one module per command and turns what they
// throw into exit codes (2 for bad arguments, 1 for failures).

const { UsageError } = require('./args');

const HELP = `Usage: uho-backfill <command> [options]

Commands:
  demo            offline: build a sample archive, serve it, backfill it (start here)
  run             backfill programs into NDJSON files or Postgres, resumably
  worker          the Postgres runner's worker service, with /health and /metrics
  make-archive    write an Old Faithful-layout archive from a JSON description
  serve-archive   serve an archive folder over HTTP on 127.0.0.1

Run \`uho-backfill <command> --help\` for a command's options.
`;

const COMMANDS = {
  demo: () => require('./demo').demo,
  run: () => require('./run').run,
  worker: () => require('./worker').worker,
  'make-archive': () => require('./archive').makeArchive,
  'serve-archive': () => require('./archive').serveArchiveCommand,
};

async function main(argv, io = { stdout: process.stdout, stderr: process.stderr }) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    io.stderr.write(`uho-backfill: unknown command '${command}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await load()(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`uho-backfill ${command}: ${error.message}\nRun \`uho-backfill ${command} --help\` for usage.\n`);
      return 2;
    }
    io.stderr.write(`uho-backfill ${command}: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
    return 1;
  }
}

module.exports = { main, HELP };

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
