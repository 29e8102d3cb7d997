import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The connections of an HTTP server and the requests in flight on each, so that a shutdown ends
 * at once every connection no request is using — an idle kept-alive one, or one a client opened
 * ahead of time and has sent nothing on yet (which Node counts as busy until its headers time out)
 * — and every other one as soon as its answer is sent.
 */
export class Connections {
  private readonly open = new Set<Socket>();
  /** Answers being given, per connection. */
  private readonly inFlight = new Map<Socket, Set<ServerResponse>>();
  private closing = false;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.open.add(socket);
      socket.once('close', () => {
        this.open.delete(socket);
        this.inFlight.delete(socket);
      });
    });
  }

  /** Whether `close` was called. */
  get ending(): boolean {
    return this.closing;
  }

  /** Called for every request as it arrives, before it is answered. */
  request(request: IncomingMessage, response: ServerResponse): void {
    const { socket } = request;
    let answers = this.inFlight.get(socket);
    if (!answers) this.inFlight.set(socket, (answers = new Set()));
    answers.add(response);
    if (this.closing) response.shouldKeepAlive = false;
    response.once('close', () => {
      answers.delete(response);
      if (answers.size > 0) return;
      this.inFlight.delete(socket);
      if (this.closing) socket.end();
    });
  }

  /**
   * Ends the connections no request is using; the others end once their answers are sent, and
   * the answers not begun yet say so (`Connection: close`).
   */
  close(): void {
    this.closing = true;
    for (const socket of this.open) {
      const answers = this.inFlight.get(socket);
      if (!answers) socket.destroy();
      else for (const response of answers) if (!response.headersSent) response.shouldKeepAlive = false;
    }
  }
}
