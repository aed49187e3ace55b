/** Types of smoke-release-archive.mjs, for the tests. */
export declare function unpack(archive: string): { root: string; folder: string; exe: string };
export declare function verifyChecksum(archive: string): void;
export declare function smoke(archive: string): Promise<{ folder: string; exe: string; cleanup: () => void }>;
