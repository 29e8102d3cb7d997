import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { startTestTessera, type TestTessera } from '../support/tessera.js';
import { fixture } from '../support/fixtures.js';
import { directUpload } from './ingest-client.js';

describe('scratch', () => {
  let t: TestTessera;
  beforeAll(async () => { t = await startTestTessera({ env: { LOG_LEVEL: 'error', JOBS_IN_PROCESS: 'false' } }); }, 120000);
  afterAll(async () => { await t?.close(); });
  it('explores', async () => {
    const r = await directUpload(t, { bytes: fixture('rocket.jpg'), filename: 'rocket.jpg', type: 'image/jpeg' });
    console.log(JSON.stringify(r.completed).slice(0, 300));
  }, 60000);
});
