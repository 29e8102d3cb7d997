import type { FastifyInstance } from 'fastify';

/** A named dependency the readiness probe checks. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 3000;

async function run(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /healthz`: the process is alive. `GET /readyz`: every dependency answers, or 503 naming those that do not. */
export async function registerHealthRoutes(
  app: FastifyInstance,
  checks: readonly ReadinessCheck[],
): Promise<void> {
  app.get('/healthz', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  );
  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(checks.map(async (c) => [c.name, await run(c)] as const));
    const failing = results.filter(([, problem]) => problem !== undefined);
    const body = {
      status: failing.length === 0 ? 'ready' : 'unavailable',
      checks: Object.fromEntries(
        results.map(([name, problem]) => [name, problem === undefined ? 'ok' : `error: ${problem}`]),
      ),
      ...(failing.length > 0 ? { unavailable: failing.map(([name]) => name) } : {}),
    };
    return reply
      .code(failing.length === 0 ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(body);
  });
}
