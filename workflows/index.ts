export { featureWorkflow } from './feature.ts';
export { titleWorkflow } from './title.ts';
