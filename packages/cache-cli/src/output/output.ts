import type { CliIo } from '../cli-io.js';
import { createColors, isColorEnabled, type Colors } from './colors.js';
import { createProgressBar, type ProgressBar, type ProgressBarOptions } from './progress-bar.js';
import { createTransferProgress, isProgressEnabled, type TransferProgress } from './transfer-progress.js';

/**
 * Where a command's results go. In `--json` mode, {@link Output.json} is the only thing written
 * to stdout; human text ({@link Output.line}) is dropped so that stdout always parses.
 */
export class Output {
  /** True with `--json`. */
  readonly isJson: boolean;
  /** Styles for stdout. */
  readonly colors: Colors;
  /** Styles for stderr. */
  readonly errColors: Colors;
  readonly #io: CliIo;
  /** The transfer progress line being drawn, erased before a warning or an error is written. */
  #transfer: TransferProgress | undefined;

  constructor(io: CliIo, options: { json: boolean }) {
    this.#io = io;
    this.isJson = options.json;
    this.colors = createColors(!options.json && isColorEnabled(io.stdout, io.env, io.isTTY));
    this.errColors = createColors(isColorEnabled(io.stderr, io.env, io.isTTY));
  }

  /** True when stderr is a terminal (progress bars, interactive hints). */
  get isInteractive(): boolean {
    return this.#io.isTTY ?? this.#io.stderr.isTTY === true;
  }

  /** A line of human output on stdout; nothing in `--json` mode. */
  line(text = ''): void {
    if (!this.isJson) this.#io.stdout.write(`${text}\n`);
  }

  /** Machine-readable output on stdout: one JSON document per call (one per line). */
  json(value: unknown): void {
    if (this.isJson) this.#io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Human text, or `value` as JSON in `--json` mode. */
  result(value: unknown, human: () => string): void {
    if (this.isJson) this.json(value);
    else this.line(human());
  }

  /** A warning or notice on stderr, in both modes. */
  warn(text: string): void {
    this.#transfer?.erase();
    this.#io.stderr.write(`${this.errColors.yellow('finrisk-cache:')} ${text}\n`);
  }

  /**
   * A failure the command has already described in its result (a miss, a failed check): one
   * line on stderr. The command then returns its exit status instead of throwing.
   */
  error(text: string): void {
    this.#transfer?.erase();
    this.#io.stderr.write(`${this.errColors.red('finrisk-cache:')} ${text}\n`);
  }

  /** A progress bar on stderr, drawn only on a terminal. */
  progress(options: Omit<ProgressBarOptions, 'enabled'>): ProgressBar {
    return createProgressBar(this.#io.stderr, { ...options, enabled: this.isInteractive });
  }

  /**
   * The progress line of a table transfer on stderr (see isProgressEnabled: a terminal, no
   * `--json`, no `TERM=dumb` or `CI`), or one that draws nothing; `requested` is false with
   * `--no-progress`. Stop it on every path out of the command, so that an error prints on a
   * clean line.
   */
  transferProgress(requested: boolean): TransferProgress {
    const io = this.#io;
    const enabled = isProgressEnabled({ stream: io.stderr, env: io.env, json: this.isJson, requested, ...(io.isTTY === undefined ? {} : { isTTY: io.isTTY }) });
    const progress = createTransferProgress(io.stderr, { enabled });
    if (!enabled) return progress;
    this.#transfer = progress;
    return {
      ...progress,
      stop: () => {
        progress.stop();
        if (this.#transfer === progress) this.#transfer = undefined;
      },
    };
  }
}
