import type { CommandDefinition } from '../command-definition.js';
import { lookupCustomer } from '../customer-lookup.js';
import { ExitCode } from '../exit-codes.js';
import { openMlCache } from '../ml-access.js';
import { formatTtl } from '../output/format.js';
import { formatTable } from '../output/table.js';

export type { CustomerEntry } from '../customer-lookup.js';

/** `inspect CUSTOMER`: every entry cached for a customer, with its time to live. */
export const inspectCommand: CommandDefinition = {
  name: 'inspect',
  summary: "list a customer's cached predictions and features with their TTLs (exit 1 when there are none)",
  description:
    "Lists every prediction (one per model) and the features cached for a customer: key, time to live left, when it was cached, " +
    'and whether a read would use it (invalidated predictions are still stored but read as misses; corrupt entries are stored ' +
    'but cannot be read, and the command says how to clear them). Exits 1 when nothing is cached.',
  arguments: [{ name: 'CUSTOMER', description: 'customer id, e.g. CUST001' }],
  examples: ['finrisk-cache inspect CUST001', 'finrisk-cache inspect CUST001 --json'],
  async run(ctx, [customer = '']) {
    const ml = await openMlCache(ctx);
    const entries = (await lookupCustomer(ml, customer)).map((found) => found.entry);
    ctx.out.json({ customer, entries });
    if (entries.length === 0) {
      ctx.out.error(`nothing is cached for customer ${customer}`);
      return ExitCode.NOT_FOUND;
    }
    ctx.out.line(
      formatTable(
        entries.map((e) => [e.kind, e.model ?? '', formatTtl(e.ttlSeconds), e.cachedAt ?? '', e.state, e.key]),
        { header: ['Kind', 'Model', 'Expires in', 'Cached at', 'State', 'Key'] },
      ),
    );
    for (const e of entries) {
      if (e.state !== 'corrupt') continue;
      const clear = e.kind === 'prediction' ? 'clear-pred' : 'clear-feat';
      ctx.out.warn(`${e.key} is corrupt (${e.error!.message}); it reads as a miss. Delete it with \`finrisk-cache ${clear} --customer ${customer}\``);
    }
  },
};
