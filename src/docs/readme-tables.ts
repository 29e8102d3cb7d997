/** Markdown tables the README carries, derived from the code so they cannot drift. */
import { describeConfig } from '../config/index.js';
import { describeOperations } from '../transforms/index.js';

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The configuration reference: every environment variable, its default and meaning. */
export function configTable(): string {
  const rows = describeConfig().map(
    (r) => `| \`${r.env}\` | ${r.default === '' ? '—' : `\`${cell(r.default)}\``} | ${cell(r.doc)} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The URL grammar: one row per operation of the operations table. */
export function operationsTable(): string {
  const rows = describeOperations().map(
    (r) =>
      `| \`${r.token}\` | ${cell(r.argument)} | ${r.range === '' ? '—' : cell(r.range)} | ${cell(r.description)} |`,
  );
  return ['| token | argument | range / default | what it does |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

/** Every generated table, by marker name. */
export function generatedTables(): Record<string, string> {
  return { config: configTable(), operations: operationsTable() };
}

/** Replaces the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. */
export function replaceGenerated(text: string, name: string, content: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start === -1 || end === -1 || end < start) throw new Error(`README has no ${open} … ${close} section`);
  return `${text.slice(0, start + open.length)}\n${content}\n${text.slice(end)}`;
}
