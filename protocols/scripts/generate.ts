// Writes protocols/asyncapi.yaml and protocols/schemas/*.json from the TypeScript source.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from '../src/asyncapi/generated-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = generatedFiles();
mkdirSync(join(root, 'schemas'), { recursive: true });
for (const stale of readdirSync(join(root, 'schemas'))) {
  if (!files.has(`schemas/${stale}`)) rmSync(join(root, 'schemas', stale));
}
for (const [path, text] of files) writeFileSync(join(root, path), text);
console.log(`wrote ${files.size} files: asyncapi.yaml and ${files.size - 1} JSON schemas`);
