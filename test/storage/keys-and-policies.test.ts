import { describe, expect, it } from '@jest/globals';
import { InvalidObjectKeyError, UploadPolicyError } from '../../src/storage/errors.js';
import {
  signLocalPostPolicy,
  verifyLocalPostPolicy,
  type LocalPostPolicy,
} from '../../src/storage/local-post-policy.js';
import { assertKeyPrefix, assertObjectKey, isObjectKey } from '../../src/storage/object-key.js';
import { BAD_KEYS } from './object-store.contract.js';

describe('object key grammar', () => {
  it.each([
    'a',
    'originals/sp_01H/ast_01H/v3/photo.jpg',
    'variants/3f/3fa9c0e1d2b4.webp',
    '.hidden',
    '..jpg',
    'a/.../b',
    'UPPER-lower_09.x',
    `${'s'.repeat(200)}/${'t'.repeat(200)}`,
  ])('accepts %s', (key) => {
    expect(() => assertObjectKey(key)).not.toThrow();
    expect(isObjectKey(key)).toBe(true);
  });

  it.each(BAD_KEYS.map(([key, why]) => ({ key, why })))('refuses a key with $why, saying why', ({ key }) => {
    expect(() => assertObjectKey(key)).toThrow(InvalidObjectKeyError);
    expect(isObjectKey(key)).toBe(false);
  });

  it('refuses keys that are not strings', () => {
    expect(() => assertObjectKey(42)).toThrow(InvalidObjectKeyError);
    expect(isObjectKey(undefined)).toBe(false);
  });

  it('accepts listing prefixes that end anywhere, but not ones that climb', () => {
    for (const prefix of ['', 'a', 'a/', 'a/b', 'a/b/', 'a/b.', 'a/.'])
      expect(() => assertKeyPrefix(prefix)).not.toThrow();
    for (const prefix of ['/', '/a', '../', 'a/../', 'a//', './', 'a b'])
      expect(() => assertKeyPrefix(prefix)).toThrow(InvalidObjectKeyError);
  });
});

describe('verifyLocalPostPolicy', () => {
  const secret = 'policy-test-secret-0123456789abcdefghij';
  const policy: LocalPostPolicy = {
    key: 'uploads/u1/photo.jpg',
    contentType: 'image/jpeg',
    minBytes: 1,
    maxBytes: 5000,
    expiresAt: new Date('2030-01-01T00:00:00.000Z'),
  };
  const signed = signLocalPostPolicy(policy, secret);
  const fields = { key: policy.key, 'Content-Type': policy.contentType, ...signed };
  const before = new Date('2029-12-31T23:59:00.000Z');
  const reasonOf = (run: () => unknown): string | undefined => {
    try {
      run();
      return undefined;
    } catch (error) {
      return error instanceof UploadPolicyError ? error.reason : `other: ${String(error)}`;
    }
  };

  it('returns the decoded policy for the fields it signed', () => {
    expect(verifyLocalPostPolicy(fields, before, secret)).toEqual(policy);
  });

  it('matches field names without regard to case, as S3 does', () => {
    const shouted = {
      KEY: policy.key,
      'content-type': policy.contentType,
      Policy: signed.policy,
      SIGNATURE: signed.signature,
    };
    expect(verifyLocalPostPolicy(shouted, before, secret)).toEqual(policy);
  });

  it('names each failure', () => {
    expect(reasonOf(() => verifyLocalPostPolicy({ key: policy.key }, before, secret))).toBe('malformed');
    expect(
      reasonOf(() =>
        verifyLocalPostPolicy({ ...signed, 'Content-Type': policy.contentType }, before, secret),
      ),
    ).toBe('malformed');
    expect(reasonOf(() => verifyLocalPostPolicy(fields, before, `${secret}x`))).toBe('bad-signature');
    expect(
      reasonOf(() => verifyLocalPostPolicy({ ...fields, signature: `${signed.signature}A` }, before, secret)),
    ).toBe('bad-signature');
    expect(reasonOf(() => verifyLocalPostPolicy(fields, new Date('2030-01-01T00:00:01.000Z'), secret))).toBe(
      'expired',
    );
    expect(
      reasonOf(() => verifyLocalPostPolicy({ ...fields, key: 'uploads/u1/other.jpg' }, before, secret)),
    ).toBe('wrong-key');
    expect(
      reasonOf(() => verifyLocalPostPolicy({ ...fields, 'Content-Type': 'image/png' }, before, secret)),
    ).toBe('wrong-content-type');
    expect(reasonOf(() => verifyLocalPostPolicy({ key: policy.key, ...signed }, before, secret))).toBe(
      'wrong-content-type',
    );
  });
});
