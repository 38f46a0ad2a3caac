'use strict';
// A loopback HTTP server for an archive folder, with the Range and HEAD support the
// firehose needs to seek in CAR files (it expects 206 with Content-Range, never a 200
// in answer to a ranged request).

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

function parseRange(header, size) {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header || '');
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start;
  let end;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  return start <= end && start < size ? { start, end } : 'unsatisfiable';
}

/**
 * Serves `dir` on 127.0.0.1 (or `host`). `fault(request)` may return an HTTP status to
 * answer instead of the file, for tests of failing mirrors.
 */
function serveArchive(dir, { port = 0, host = '127.0.0.1', fault } = {}) {
  const root = path.resolve(dir);
  const stats = { requests: 0, bytesSent: 0 };
  const server = http.createServer((req, res) => {
    stats.requests += 1;
    const forced = fault ? fault(req) : undefined;
    if (forced) {
      res.writeHead(forced, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(`fault injected: ${forced}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const relative = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(root, relative);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403);
      res.end();
      return;
    }
    fs.stat(file, (statError, stat) => {
      if (statError || !stat.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      const headers = { 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
      const range = req.headers.range ? parseRange(req.headers.range, stat.size) : null;
      if (range === 'unsatisfiable') {
        res.writeHead(416, { 'Content-Range': `bytes */${stat.size}` });
        res.end();
        return;
      }
      const { start, end } = range || { start: 0, end: stat.size - 1 };
      headers['Content-Length'] = String(Math.max(0, end - start + 1));
      if (range) headers['Content-Range'] = `bytes ${start}-${end}/${stat.size}`;
      res.writeHead(range ? 206 : 200, headers);
      if (req.method === 'HEAD' || stat.size === 0) {
        res.end();
        return;
      }
      const stream = fs.createReadStream(file, { start, end });
      stream.on('data', (chunk) => {
        stats.bytesSent += chunk.length;
      });
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    });
  });
  // Jetstreamer drops connections mid-body when it seeks; that is not an error here.
  server.on('clientError', (_error, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const url = `http://${host}:${address.port}/`;
      resolve({
        url,
        port: address.port,
        stats,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

module.exports = { serveArchive };
