import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A connection as Node's HTTP server keeps it: the answer being given on it, if any (Node's own
 * `closeIdleConnections` reads the same field; it is null between requests).
 */
type ServerSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * The connections of an HTTP server, so that a shutdown ends at once every connection no request
 * is using — an idle kept-alive one, or one a client opened ahead of time and has sent nothing on
 * yet (which Node counts as busy until its headers time out) — and every other one as soon as its
 * answer is sent. Nothing is tracked per request: the server already knows each connection's
 * answer in progress.
 */
export class Connections {
  private readonly open = new Set<ServerSocket>();
  private closing = false;

  constructor(server: Server) {
    server.on('connection', (socket: ServerSocket) => {
      this.open.add(socket);
      socket.once('close', () => this.open.delete(socket));
    });
  }

  /** Whether `close` was called. */
  get ending(): boolean {
    return this.closing;
  }

  /** Called for every request as it arrives: once closing, its answer ends its connection. */
  request(response: ServerResponse): void {
    if (this.closing) response.shouldKeepAlive = false;
  }

  /**
   * Ends the connections no request is using; the others end once their answers are sent, and
   * the answers not begun yet say so (`Connection: close`).
   */
  close(): void {
    this.closing = true;
    for (const socket of this.open) {
      const answer = socket._httpMessage;
      if (!answer) socket.destroy();
      else if (!answer.headersSent) answer.shouldKeepAlive = false;
      // already sent as kept alive: the connection ends after it
      else answer.once('finish', () => socket.end());
    }
  }
}
