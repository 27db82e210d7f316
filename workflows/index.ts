export { featureWorkflow } from './feature.ts';
