/**
 * `npm run tessera -- <command>`: operator commands.
 *   init [--json] [--organization NAME] [--tenant NAME] [--space NAME]
 *        creates an organization, tenant, space and admin API key, and prints them
 *   migrate
 *        applies pending registry migrations
 *   fsck [--repair] [--json]
 *        lists registry rows without objects and objects without rows; --repair fixes them
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiKeyService } from './auth/api-keys.js';
import { ConfigError, loadConfig } from './config/index.js';
import { DataDirInUseError } from './db/embedded-postgres.js';
import { openRegistry } from './db/registry.js';
import { createStore } from './app.js';
import { DEFAULT_PRESETS } from './media/eager.service.js';
import { Fsck } from './media/fsck.service.js';
import { PresetsService } from './media/presets.service.js';
import { bootstrapOrganization } from './tenancy/bootstrap.js';
import { TenancyService } from './tenancy/tenancy.service.js';

const USAGE = `usage: tessera <command>
  init [--json] [--organization NAME] [--tenant NAME] [--space NAME]
      create an organization, tenant, space and admin API key
  migrate
      apply pending registry migrations
  fsck [--repair] [--json]
      list rows without objects and objects without rows (exit 1 when any); --repair fixes them
`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  const registryOptions = { databaseUrl: config.databaseUrl, pgliteDir: join(config.dataPath, 'registry') };
  switch (command) {
    case 'migrate': {
      const registry = await openRegistry({ ...registryOptions, migrate: false });
      try {
        const applied = await registry.dataSource.runMigrations({ transaction: 'each' });
        process.stdout.write(
          applied.length === 0
            ? 'No pending migrations.\n'
            : `Applied: ${applied.map((m) => m.name).join(', ')}\n`,
        );
      } finally {
        await registry.close();
      }
      return 0;
    }
    case 'init': {
      const { values } = parseArgs({
        args: rest,
        options: {
          json: { type: 'boolean', default: false },
          organization: { type: 'string' },
          tenant: { type: 'string' },
          space: { type: 'string' },
        },
      });
      const registry = await openRegistry(registryOptions);
      try {
        const db = registry.dataSource;
        const tenancy = new TenancyService(db);
        const presets = new PresetsService(db, tenancy, {
          maxOutputDimension: config.maxOutputDimension,
          maxOperations: config.maxOperations,
        });
        tenancy.onSpaceCreated((space, manager) => presets.createDefaults(space, DEFAULT_PRESETS, manager));
        const result = await bootstrapOrganization(
          db,
          { tenancy, apiKeys: new ApiKeyService(db) },
          config.baseUrl,
          { organization: values.organization, tenant: values.tenant, space: values.space },
        );
        if (values.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          process.stdout.write(
            [
              `organization: ${result.organization} (${result.organizationId})`,
              `tenant:       ${result.tenant} (${result.tenantId})`,
              `space:        ${result.space} (${result.spaceId})`,
              `admin API key (shown once): ${result.apiKey}`,
              `GraphQL: ${result.graphqlUrl}`,
              '',
            ].join('\n'),
          );
        }
      } finally {
        await registry.close();
      }
      return 0;
    }
    case 'fsck': {
      const { values } = parseArgs({
        args: rest,
        options: { repair: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      });
      const registry = await openRegistry(registryOptions);
      const store = createStore(config);
      try {
        const report = await new Fsck(registry.dataSource, store).run({ repair: values.repair });
        const problems =
          report.assetsWithoutOriginal.length +
          report.variantsWithoutObject.length +
          report.objectsWithoutRow.length;
        if (values.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } else {
          const section = (title: string, items: string[]) =>
            `${title}: ${items.length}${items.length > 0 ? `\n${items.map((i) => `  ${i}`).join('\n')}` : ''}\n`;
          process.stdout.write(
            section('assets without their original', report.assetsWithoutOriginal) +
              section('variants without their object', report.variantsWithoutObject) +
              section('objects without a row', report.objectsWithoutRow) +
              (report.repaired
                ? `repaired: ${report.repaired.deletedObjects} objects deleted, ${report.repaired.deletedVariantRows} variant rows dropped, ${report.repaired.deletedAssets} broken assets removed\n`
                : problems > 0
                  ? 'run again with --repair to fix\n'
                  : 'registry and storage agree\n'),
          );
        }
        return problems > 0 && !values.repair ? 1 : 0;
      } finally {
        await registry.close();
      }
    }
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof DataDirInUseError)
      process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
