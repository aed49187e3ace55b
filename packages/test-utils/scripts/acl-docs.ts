// Writes SECURITY.md's ACL recipes from the list the ACL tests use (`pnpm --filter @finrisk/test-utils docs:acl`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withAclRecipes } from '../src/acl-recipes.ts';

const file = join(import.meta.dirname, '..', '..', '..', 'SECURITY.md');
const before = readFileSync(file, 'utf8');
const after = withAclRecipes(before);
if (after !== before) writeFileSync(file, after);
console.log(`SECURITY.md: ACL recipes ${after === before ? 'up to date' : 'written'}`);
