import { createRequire } from 'node:module';

/**
 * apache-arrow as LanceDB sees it. LanceDB loads it with require() (the CommonJS build); tables built with
 * the ES-module build's classes fail its `instanceof` checks, so this module hands out the same instance.
 */
export const arrow: typeof import('apache-arrow') = createRequire(import.meta.url)('apache-arrow');
