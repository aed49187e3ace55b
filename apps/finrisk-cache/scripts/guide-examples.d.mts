/** Types of guide-examples.mjs, for the tests. */
export declare const appDir: string;
export declare const examplesDir: string;
export declare const builtBin: string;
export declare function readGuideExamples(): string[];
export declare function prepareWorkspace(command?: readonly string[]): { root: string; cwd: string; bin: string };
export declare function runLine(
  line: string,
  options: { cwd: string; bin: string; env?: Record<string, string | undefined>; inherit?: boolean },
): Promise<{ code: number | null; stdout: string; stderr: string }>;
