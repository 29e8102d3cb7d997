import { connect, type Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { startTestTessera } from '../support/tessera.js';

/** Opens a TCP connection to `baseUrl`. */
async function open(baseUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Everything the server sends until it ends the connection. */
function received(socket: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) =>
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8'))),
  );
}

describe('shutdown', () => {
  it('does not wait for a connection a client opened and sent nothing on', async () => {
    // Browsers open connections ahead of their requests; Node counts such a connection as busy
    // until its headers time out (a minute), which would hold the shutdown as long.
    const t = await startTestTessera();
    const idle = await open(t.baseUrl);
    const ended = received(idle);
    await t.close();
    expect(await ended).toBe('');
  }, 30_000);

  it('answers a request in flight in full, then ends its connection', async () => {
    const t = await startTestTessera();
    const socket = await open(t.baseUrl);
    const answer = received(socket);
    const body = JSON.stringify({ query: '{ __typename }' });
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Authorization: Bearer ${t.boot.apiKey}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    // the request has begun when the shutdown starts; its body arrives afterwards
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closed = t.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(body.slice(5));
    const text = await answer;
    await closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ data: { __typename: 'Query' } });
  }, 30_000);
});
