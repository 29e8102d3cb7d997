/**
 * Signed upload forms for the local-disk store: the same shape as an S3 presigned POST, verified
 * by Tessera's own `POST /uploads` route instead of by S3.
 *
 * Fields of a form: `key`, `Content-Type`, `policy` and `signature`, then the `file` field last.
 * `policy` is base64url(JSON `{ key, contentType, minBytes, maxBytes, expiresAt }`, `expiresAt` an
 * ISO 8601 instant) and `signature` is base64url(HMAC-SHA256(secret, policy)), so the policy
 * cannot be changed without the secret, and the form fields must match what it promises.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UploadPolicyError } from './errors.js';
import { isObjectKey } from './object-key.js';

/** Fewest bytes of an upload signing secret. */
export const MIN_UPLOAD_SECRET_BYTES = 32;

/** What a signed upload form allows: one key, one content type, a size range, until a time. */
export interface LocalPostPolicy {
  /** The only key the form may write. */
  key: string;
  /** The exact `Content-Type` form field required. */
  contentType: string;
  /** Smallest accepted file, in bytes. */
  minBytes: number;
  /** Largest accepted file, in bytes. */
  maxBytes: number;
  /** The form is refused after this instant. */
  expiresAt: Date;
}

/** Form fields of a signed upload: names are matched without regard to case, as S3 does. */
export type UploadFormFields = Readonly<Record<string, string | undefined>>;

/**
 * Checks that a secret is long enough to sign upload forms.
 * @throws RangeError when it has fewer than 32 bytes.
 */
export function assertUploadSecret(secret: string | Uint8Array): void {
  const bytes = typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.byteLength;
  if (bytes < MIN_UPLOAD_SECRET_BYTES) {
    throw new RangeError(
      `Expected an upload signing secret of at least ${MIN_UPLOAD_SECRET_BYTES} bytes but received ${bytes}`,
    );
  }
}

const sign = (secret: string | Uint8Array, encodedPolicy: string): string =>
  createHmac('sha256', secret).update(encodedPolicy, 'utf8').digest('base64url');

/**
 * Encodes and signs a policy.
 * @returns the `policy` and `signature` form fields.
 */
export function signLocalPostPolicy(
  policy: LocalPostPolicy,
  secret: string | Uint8Array,
): { policy: string; signature: string } {
  const json = JSON.stringify({
    key: policy.key,
    contentType: policy.contentType,
    minBytes: policy.minBytes,
    maxBytes: policy.maxBytes,
    expiresAt: policy.expiresAt.toISOString(),
  });
  const encoded = Buffer.from(json, 'utf8').toString('base64url');
  return { policy: encoded, signature: sign(secret, encoded) };
}

/** The value of a form field, its name matched without regard to case. */
export function formField(fields: UploadFormFields, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [field, value] of Object.entries(fields)) {
    if (field.toLowerCase() === wanted) return value;
  }
  return undefined;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function decodePolicy(encoded: string): LocalPostPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null) {
    const p = parsed as Record<string, unknown>;
    const expiresAt = typeof p.expiresAt === 'string' ? new Date(p.expiresAt) : undefined;
    if (
      isObjectKey(p.key) &&
      typeof p.contentType === 'string' &&
      isCount(p.minBytes) &&
      isCount(p.maxBytes) &&
      p.minBytes <= p.maxBytes &&
      expiresAt !== undefined &&
      !Number.isNaN(expiresAt.getTime())
    ) {
      return {
        key: p.key,
        contentType: p.contentType,
        minBytes: p.minBytes,
        maxBytes: p.maxBytes,
        expiresAt,
      };
    }
  }
  throw new UploadPolicyError('malformed', 'The upload policy cannot be read.');
}

/**
 * Verifies the fields of a signed upload form: the signature (compared in constant time), then
 * the expiry, then that the `key` and `Content-Type` fields are the ones the policy names.
 * @param fields the form fields sent before the file (names matched without regard to case).
 * @param now the current time.
 * @param secret the secret the form was signed with.
 * @returns the decoded policy, whose size range the caller enforces while reading the file.
 * @throws UploadPolicyError with `reason` `malformed` (key, policy or signature missing),
 *   `bad-signature`, `expired`, `wrong-key` or `wrong-content-type`.
 */
export function verifyLocalPostPolicy(
  fields: UploadFormFields,
  now: Date,
  secret: string | Uint8Array,
): LocalPostPolicy {
  const encoded = formField(fields, 'policy');
  const signature = formField(fields, 'signature');
  const key = formField(fields, 'key');
  if (!encoded || !signature || !key) {
    throw new UploadPolicyError(
      'malformed',
      'The form must carry the key, policy and signature fields before the file.',
    );
  }
  const expected = Buffer.from(sign(secret, encoded), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UploadPolicyError('bad-signature', 'The upload signature does not match its policy.');
  }
  const policy = decodePolicy(encoded);
  if (now.getTime() > policy.expiresAt.getTime()) {
    throw new UploadPolicyError('expired', `The upload form expired at ${policy.expiresAt.toISOString()}.`, {
      key: policy.key,
    });
  }
  if (key !== policy.key) {
    throw new UploadPolicyError(
      'wrong-key',
      'The key field is not the key this upload form was signed for.',
      { key: policy.key },
    );
  }
  const contentType = formField(fields, 'content-type');
  if (contentType !== policy.contentType) {
    throw new UploadPolicyError(
      'wrong-content-type',
      `The Content-Type field must be ${policy.contentType}${contentType === undefined ? '' : `, not ${contentType}`}.`,
      { key: policy.key },
    );
  }
  return policy;
}
