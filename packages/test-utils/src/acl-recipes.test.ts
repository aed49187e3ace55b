import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACL_RECIPES_START, aclRecipesMarkdown, aclRules, aclSetUser, withAclRecipes } from './acl-recipes.ts';
import type { ServerIdentity } from './server-identity.ts';

const redis70: ServerIdentity = { name: 'redis', version: '7.0.15', redisVersion: '7.0.15' };
const redis74: ServerIdentity = { name: 'redis', version: '7.4.1', redisVersion: '7.4.1' };
const valkey8: ServerIdentity = { name: 'valkey', version: '8.0.1', redisVersion: '7.2.4' };

describe('ACL recipes', () => {
  it("SECURITY.md's recipes are the generated text (run `pnpm --filter @finrisk/test-utils docs:acl` after changing the list)", () => {
    const security = readFileSync(new URL('../../../SECURITY.md', import.meta.url), 'utf8');
    expect(security).toContain(ACL_RECIPES_START);
    expect(withAclRecipes(security)).toBe(security);
  });

  it('leaves +client|setinfo out on Redis 7.0, which refuses it, and keeps it on Redis 7.4 and Valkey 8', () => {
    expect(aclRules('app', redis70)).not.toContain('+client|setinfo');
    expect(aclRules('app', redis74)).toContain('+client|setinfo');
    expect(aclRules('app', valkey8)).toContain('+client|setinfo');
    expect(aclRules('dashboard', redis70)).not.toContain('+client|setinfo');
    expect(aclRules('dashboard', valkey8)).toContain('+client|setinfo');
  });

  it('limits every role to the prefix, no channel and no command but its own; L1 and clears add to their parent', () => {
    for (const role of ['app', 'l1', 'dashboard', 'dashboard-clears'] as const) {
      expect(aclRules(role, redis74, { prefix: 'svc' }).slice(0, 4)).toEqual(['resetkeys', '~svc:*', 'resetchannels', '-@all']);
    }
    expect(aclRules('l1', redis74)).toEqual([...aclRules('app', redis74), '+hello', '+client|tracking']);
    expect(aclRules('dashboard-clears', redis74)).toEqual([...aclRules('dashboard', redis74), '+unlink']);
    expect(aclRules('dashboard', redis74)).not.toContain('+set');
    expect(aclSetUser('app', redis70, { password: 'pw' }).slice(0, 6)).toEqual(['ACL', 'SETUSER', 'finrisk-app', 'reset', 'on', '>pw']);
  });

  it('writes each role as one ACL SETUSER line for the newest servers and names what older ones lack', () => {
    const text = aclRecipesMarkdown();
    expect(text).toContain(`ACL SETUSER finrisk-app reset on >PASSWORD ${aclRules('app', redis74).join(' ')}\n`);
    expect(text).toContain(`ACL SETUSER finrisk-dashboard reset on >PASSWORD ${aclRules('dashboard', valkey8).join(' ')}\n`);
    expect(text).toMatch(/`\+client\|setinfo` needs Redis 7\.2\+, Valkey 7\.2\+: leave it out on older servers/);
    expect(() => withAclRecipes('no markers here')).toThrow(/acl-recipes markers/);
  });
});
