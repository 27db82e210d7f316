// Annotations and search: typed annotations grouped in atomically published runs, and a JSON query DSL served
// from Postgres, with an in-memory reference evaluator. docs/search.md.
export * from './annotation.ts';
export * from './errors.ts';
export { cosine, type SearchGroup, type SearchResult } from './pipeline.ts';
export * from './query.ts';
export { evaluateParsedQuery, evaluateQuery } from './reference.ts';
export * from './schemas.ts';
export { AnnotationStore, type AnnotationStoreOptions, type RunInfo, type WriteRunResult } from './store.ts';
