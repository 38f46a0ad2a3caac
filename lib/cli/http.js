'use strict';
// The small HTTP face of the CLI: /metrics in Prometheus' text format, and /health for the
// worker service's orchestrator.

const http = require('node:http');

/** Serves `routes` ({ '/path': async () => ({ type, body, status? }) }); resolves to { url, close }. */
function serveRoutes(routes, { port, host = '127.0.0.1' }) {
  const server = http.createServer(async (req, res) => {
    const route = req.method === 'GET' ? routes[new URL(req.url, 'http://x').pathname] : undefined;
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const { type, body, status = 200 } = await route();
      res.writeHead(status, { 'Content-Type': type }).end(body);
    } catch (error) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${error.message}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      resolve({ url: `http://${host}:${bound}/`, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) });
    });
  });
}

function metricsRoute(registry) {
  return async () => ({ type: registry.contentType, body: await registry.metrics() });
}

module.exports = { serveRoutes, metricsRoute };
