import { createHmac } from 'node:crypto';

/** The body a purge webhook receives. */
export interface PurgeNotice {
  readonly event: string;
  readonly assetId: string;
  readonly spaceId: string;
  readonly urlPrefixes: readonly string[];
}

export class PurgeWebhookError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PurgeWebhookError';
  }
}

/**
 * POSTs purge notices as JSON to a URL (a CDN's purge API or a small relay), signed with
 * `x-tessera-signature: sha256=<hex HMAC-SHA256 of the body>` when a secret is set.
 */
export class WebhookPurgeHook {
  constructor(
    private readonly url: string,
    private readonly secret: string | undefined,
    private readonly timeoutMs = 5000,
  ) {}

  /** @throws PurgeWebhookError when the webhook does not answer 2xx in time. */
  async purge(notice: PurgeNotice): Promise<void> {
    const body = JSON.stringify(notice);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Tessera-Purge/1.0',
    };
    if (this.secret)
      headers['x-tessera-signature'] =
        `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new PurgeWebhookError(undefined, `purge webhook unreachable: ${(error as Error).message}`);
    }
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok)
      throw new PurgeWebhookError(response.status, `purge webhook answered ${response.status}`);
  }
}
