#!/usr/bin/env node
// Writes docs/topics.md from the compiled topic registry.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderTopicsDoc } = createRequire(import.meta.url)(join(pkg, 'dist', 'topics-doc.js'));
writeFileSync(join(pkg, '..', '..', 'docs', 'topics.md'), renderTopicsDoc());
