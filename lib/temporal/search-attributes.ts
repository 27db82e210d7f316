import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Workflow-safe (no I/O): imported by workflows, clients and the stack that registers them.
export const TitleIdKey = defineSearchAttributeKey('TitleId', SearchAttributeType.KEYWORD);
export const FeatureKey = defineSearchAttributeKey('Feature', SearchAttributeType.KEYWORD);
export const EntityKeyKey = defineSearchAttributeKey('EntityKey', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [TitleIdKey, FeatureKey, EntityKeyKey] as const;
