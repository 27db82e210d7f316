export { featureWorkflow } from './feature.ts';
export { outboxSweepWorkflow } from './outbox.ts';
export { titleWorkflow } from './title.ts';
