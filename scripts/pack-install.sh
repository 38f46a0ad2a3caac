#!/usr/bin/env bash
# Installs the package as a new user would, from the two tarballs a linux-x64-gnu user gets:
# the root package (with the optionalDependencies `napi pre-publish` adds at release) and
# @uho/backfill-linux-x64-gnu carrying the built addon. In a scratch project, with no cargo on
# PATH: require() it, import it from ESM, run `npx uho-backfill demo`, and type-check a
# TypeScript file against its types with `tsc --noEmit`.
# Uses the addon the last build left in the checkout (`npm run build` for a release one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
addon="$root/uho-backfill.linux-x64-gnu.node"
[ -f "$addon" ] || { echo "pack-install: $addon is missing; run npm run build first" >&2; exit 1; }
work=$(mktemp -d /tmp/uho-backfill-pack.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(node -p "require('$root/package.json').version")

# The platform package: its manifest from npm/, the addon beside it.
mkdir "$work/platform"
cp "$root/npm/linux-x64-gnu/package.json" "$root/npm/linux-x64-gnu/README.md" "$work/platform/"
# Release builds carry no debug info (Cargo.toml); a debug build's is dropped here the same way.
strip --strip-debug -o "$work/platform/$(basename "$addon")" "$addon"
(cd "$work/platform" && npm pack --silent --pack-destination "$work" >/dev/null)

# The root package as published: what `files` lists, and one optional dependency per target.
mkdir "$work/root"
cp -r "$root/index.js" "$root/index.d.ts" "$root/lib" "$root/README.md" "$work/root/"
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const abi = { "x86_64-unknown-linux-gnu": "linux-x64-gnu", "aarch64-unknown-linux-gnu": "linux-arm64-gnu",
    "x86_64-unknown-linux-musl": "linux-x64-musl", "x86_64-apple-darwin": "darwin-x64", "aarch64-apple-darwin": "darwin-arm64",
    "x86_64-pc-windows-msvc": "win32-x64-msvc" };
  p.optionalDependencies = Object.fromEntries(p.napi.targets.map((t) => [`${p.name}-${abi[t]}`, p.version]));
  delete p.devDependencies;
  fs.writeFileSync(process.argv[2], JSON.stringify(p, null, 2));
' "$root/package.json" "$work/root/package.json"
(cd "$work/root" && npm pack --silent --pack-destination "$work" >/dev/null)
ls -l "$work"/*.tgz

# A user's machine: no Rust anywhere on PATH.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r dir; do [ -x "$dir/cargo" ] || printf '%s:' "$dir"; done)
export PATH="${PATH%:}"
if command -v cargo >/dev/null 2>&1; then echo "pack-install: cargo is still on PATH" >&2; exit 1; fi

mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$work/uho-backfill-$version.tgz" "$work/uho-backfill-linux-x64-gnu-$version.tgz"
[ ! -e node_modules/@uho/backfill/uho-backfill.linux-x64-gnu.node ] || { echo "pack-install: the root package carries the addon" >&2; exit 1; }

node -e '
  const b = require("@uho/backfill");
  for (const name of ["startBackfill", "writeArchive", "serveArchive", "migrate", "enqueue", "BackfillWorker", "getStatus"]) {
    if (typeof b[name] !== "function") throw new Error(`require: ${name} is ${typeof b[name]}`);
  }
  const loaded = Object.keys(require.cache).find((f) => f.endsWith(".node"));
  if (!loaded.includes("@uho/backfill-linux-x64-gnu")) throw new Error(`addon loaded from ${loaded}`);
  console.log("require: ok, addon from", loaded);
'
node --input-type=module -e '
  import { startBackfill, BackfillWorker } from "@uho/backfill";
  import backfill from "@uho/backfill";
  if (typeof startBackfill !== "function" || BackfillWorker !== backfill.BackfillWorker) throw new Error("import: wrong exports");
  console.log("import: ok");
'
npx --no-install uho-backfill demo --json > demo.jsonl
grep -q '"type":"summary"' demo.jsonl && echo "npx uho-backfill demo: ok"

cat > check.ts <<'TS'
import { startBackfill, BackfillWorker, enqueue, getStatus, type Batch, type JobStatus, type BackfillOptions } from '@uho/backfill';

const options: BackfillOptions = { programIds: ['GKz69iyGnAoz5YQoR25c5JP5UrubWEyb5okCbdufVqXv'], epochs: [800, 801], match: 'invokes' };
const job = startBackfill(options, async (batch: Batch) => {
  for (const event of batch.events) console.log(event.eventName, event.data, batch.checkpoint.completedRanges);
});
job.done.then((summary) => console.log(summary.frontierSlot ?? 'none'));

declare const pool: Parameters<typeof enqueue>[0];
async function backend(): Promise<JobStatus | null> {
  const id: number = await enqueue(pool, { programId: options.programIds[0], startSlot: 1, endSlot: 2, target: { schema: 'public' } });
  const worker = new BackfillWorker({ pool, writers: { mine: async (client, events, j) => { await client.query('SELECT 1'); return events.length + j.id; } } });
  worker.on('chunkFinished', ({ outcome }) => console.log(outcome));
  await worker.start();
  return getStatus(pool, id);
}
void backend;
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "strict": true, "noEmit": true, "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022", "types": ["node"] }, "files": ["check.ts"] }
JSON
npm install --no-audit --no-fund --loglevel=error typescript@5.9 @types/node@20 >/dev/null
npx --no-install tsc --noEmit -p . && echo "tsc --noEmit: ok"
echo "pack-install: all good"
