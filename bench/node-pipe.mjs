#!/usr/bin/env node
/**
 * The floor any Node.js proxy stands on: accept a TCP connection, open one to the target, and
 * `pipe()` bytes both ways. No parsing, no copying beyond what libuv and streams already do.
 * Portcullis parses every message on top of this, so its ratio to this pipe is the cost of
 * understanding the protocol, separate from the cost of being a Node process in the path.
 *
 * Usage: node bench/node-pipe.mjs --listen 127.0.0.1:PORT --target 127.0.0.1:PORT [--stats]
 *
 * Prints `node-pipe listening on HOST:PORT` on stderr once ready. With --stats, prints one JSON
 * line per closed connection on stdout: bytes the client sent and bytes the server sent
 * (socket.bytesRead, which Node keeps anyway, so counting costs nothing on the hot path).
 */
import { createConnection, createServer } from 'node:net';

function arg(name) {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function hostPort(v, what) {
  const m = /^(.+):(\d+)$/.exec(v ?? '');
  if (!m) {
    process.stderr.write(`node-pipe: ${what} must be HOST:PORT\n`);
    process.exit(2);
  }
  return { host: m[1], port: Number(m[2]) };
}

const listen = hostPort(arg('--listen'), '--listen');
const target = hostPort(arg('--target'), '--target');
const stats = process.argv.includes('--stats');

const server = createServer({ noDelay: true }, (client) => {
  const upstream = createConnection({ host: target.host, port: target.port, noDelay: true });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  // Either side failing ends both; pipe() alone would leave the other half open.
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
  if (stats) {
    let reported = false;
    client.on('close', () => {
      if (reported) return;
      reported = true;
      process.stdout.write(JSON.stringify({ clientBytes: client.bytesRead, serverBytes: upstream.bytesRead }) + '\n');
    });
  }
});

server.listen({ host: listen.host, port: listen.port }, () => {
  const a = server.address();
  process.stderr.write(`node-pipe listening on ${a.address}:${a.port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
