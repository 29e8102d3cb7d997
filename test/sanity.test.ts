import { describe, expect, it } from '@jest/globals';
import { loadConfig, ConfigError } from '../src/config/index.js';
import { testServices } from './support/services.js';

describe('sanity', () => {
  it('loads', () => {
    expect(loadConfig({}).port).toBe(4000);
    expect(() => loadConfig({ PORT: 'x' })).toThrow(ConfigError);
    expect(testServices.s3.endpoint).toMatch(/^http/);
  });
});
