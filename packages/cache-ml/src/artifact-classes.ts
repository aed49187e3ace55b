import { registerClass, type RegisterableClass } from '@finrisk/cache-core';

/**
 * Allows instances of `cls` (a scaler, an encoder, ...) in cached artifacts: they come back as
 * instances with their methods, rebuilt without running the constructor. A payload can never
 * build a class this process did not register, and caching an instance of an unregistered class
 * throws E_INVALID_VALUE; unlike the Python service's pickle, reading Redis cannot run code.
 * Register the same classes, under the same identifiers, in every process that reads them.
 *
 * @param identifier Name stored in the payload. @default cls.name (give one when a bundler renames classes)
 */
export function registerArtifactClass(cls: RegisterableClass, identifier?: string): void {
  registerClass(cls, identifier);
}
