/** Bandwidth traces: the canonical format, files, lookup, transforms, statistics, importers, the model. */
export type { LinkState, Trace, TraceSample } from './types';
export { TraceError } from './errors';
export { COLUMNS, MAGIC, formatTrace, parseTrace } from './format';
export { bundledDir, listBundled, loadTrace, resolveTrace, writeTrace } from './files';
export { capacityAt, stateAt } from './lookup';
export { clip, cut, mergeRuns, offset, repeatTo, resample, roundKbit, scaleBy, scaleToMean } from './transforms';
export { binMeans, secondStats, timeWeightedMean, traceStats, type SecondStats, type TraceStats } from './stats';
export { FAMILY_MODELS, MODEL_FAMILIES, generateModel, isModelFamily, type ModelFamily, type ModelParams } from './model';
export { constantTrace, parseSteps, stepTrace } from './synthetic';
export { IMPORT_FORMATS, RATE_UNITS, exportMahimahi, importTrace, isImportFormat, type ImportFormat, type ImportOptions, type RateUnit } from './importers';
export { applyPipeline, type PipelineOptions } from './pipeline';
