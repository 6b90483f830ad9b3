/** The masking stage's public surface; everything else under src/masking is internal. */
export { createMaskingEngine, type MaskingEngine } from './engine.js';
export { maskingSchema, STRATEGIES, type MaskingConfig, type StrategyName } from './schema.js';
export { MaskPlan, type PlanInput, type ResultColumn, type PlannedColumn } from './plan.js';
export { isInPlace } from './data-row.js';
export { copyFormatOf, TEXT_COPY, type CopyFormat } from './copy-data.js';
export { sqlLineage, statementLineage, unionLineage, type ColumnLineage, type StatementLineage } from './lineage.js';
export { staticCatalog, type Catalog, type CatalogRelation } from './catalog.js';
export type { ErrorMaskContext } from './error-message.js';
export type { MaskSpec } from './strategy.js';
