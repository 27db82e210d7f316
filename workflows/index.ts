export { featureWorkflow } from './feature.ts';
export { matchCutQueryWorkflow } from './matchcut.ts';
export { outboxSweepWorkflow } from './outbox.ts';
export { titleWorkflow } from './title.ts';
