/** Types of release-archive.mjs, for the tests. */
export declare const releaseDir: string;
export declare function platformName(platform?: string, arch?: string): string;
export declare function checksumLine(file: string): string;
export declare function buildReleaseArchive(): Promise<{ archive: string; checksum: string; folder: string }>;
