import { Command, Option } from 'commander';
import type { CliIo } from './cli-io.js';
import { CommandContext } from './command-context.js';
import type { CommandDefinition } from './command-definition.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import type { GlobalOptions } from './global-options.js';
import { ENVIRONMENT_HELP, EXAMPLES_HELP, EXIT_STATUS_HELP } from './help-text.js';
import { hostName, hostPortList, integerIn, redisUrl } from './option-parsers.js';
import { VERSION } from './version.js';

/** Options of {@link buildProgram}. */
export interface BuildProgramOptions {
  /** Receives the exit status of the command that ran. */
  onExit: (code: ExitCodeValue) => void;
}

/**
 * Builds the commander program for `commands`. Commander throws instead of exiting
 * (`exitOverride`) and prints no errors itself: {@link runCli} turns them into one line.
 */
export function buildProgram(io: CliIo, commands: readonly CommandDefinition[], options: BuildProgramOptions): Command {
  const program = new Command('finrisk-cache')
    .description('Operate the FinRisk cache: predictions, features, data frames, statistics and health.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--url <URL>', 'Redis URL, e.g. redis://localhost:6379/0 (REDIS_URL)').argParser(redisUrl))
    .addOption(new Option('--host <HOST>', 'Redis host (REDIS_HOST)').argParser(hostName))
    .addOption(new Option('--port <PORT>', 'Redis port (REDIS_PORT)').argParser(integerIn(1, 65535, '--port')))
    .addOption(new Option('--db <N>', 'Redis database number (REDIS_DB)').argParser(integerIn(0, 15, '--db')))
    .addOption(new Option('--backend <NAME>', 'backend (CACHE_BACKEND)').choices(['auto', 'redis', 'local', 'memory']))
    .addOption(
      new Option('--cluster-nodes <HOST:PORT,...>', 'Redis Cluster seed nodes, comma-separated (REDIS_CLUSTER_NODES)').argParser(hostPortList('--cluster-nodes')),
    )
    .addOption(new Option('--sentinels <HOST:PORT,...>', 'Redis Sentinels, comma-separated (REDIS_SENTINELS)').argParser(hostPortList('--sentinels')))
    .addOption(new Option('--sentinel-master <NAME>', "the master's name the sentinels watch (REDIS_SENTINEL_MASTER)").argParser(hostName))
    .option('--debug', 'print stack traces and cache errors on stderr')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [COMMAND]', 'show help for a command')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // runCli prints errors itself, as one line.
      outputError: () => {},
    })
    .addHelpText('after', `\n${EXAMPLES_HELP}\n\n${EXIT_STATUS_HELP}\n\n${ENVIRONMENT_HELP}\n`);

  for (const definition of commands) {
    const command = program.command(definition.name).summary(definition.summary).description(definition.description ?? definition.summary);
    if (definition.aliases?.length) command.aliases(definition.aliases);
    for (const arg of definition.arguments ?? []) {
      command.argument(arg.optional ? `[${arg.name}]` : `<${arg.name}>`, arg.description);
    }
    for (const opt of definition.options ?? []) {
      const option = new Option(opt.flags, opt.description);
      if (opt.parse) option.argParser(opt.parse);
      if (opt.default !== undefined) option.default(opt.default);
      command.addOption(option);
    }
    const after = [
      definition.examples?.length ? `Examples:\n${definition.examples.map((e) => `  ${e}`).join('\n')}` : '',
      'Global options (--json, --url, --host, --port, --db, --backend, --cluster-nodes, --sentinels, --sentinel-master, --debug): see finrisk-cache --help.',
      EXIT_STATUS_HELP,
    ].filter(Boolean);
    command.addHelpText('after', `\n${after.join('\n\n')}\n`);
    command.action(async function (this: Command) {
      const flags = this.optsWithGlobals<GlobalOptions>();
      const ctx = new CommandContext(io, flags);
      try {
        const code = await definition.run(ctx, this.processedArgs as string[], this.opts());
        options.onExit(code ?? ExitCode.OK);
      } finally {
        await ctx.close();
      }
    });
  }
  return program;
}
