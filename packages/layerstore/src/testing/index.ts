/**
 * Test utilities other packages' tests may use (`@tsbuild/layerstore/testing`); never
 * imported by production code.
 */
export { fileRegistry, startRegistry, freePort, TEST_USER, REGISTRY_BIN, type RunningRegistry } from '../registry/testing/registry-server.js';
export { prng } from './prng.js';
export { bounded, outcome, outcomeAsync, propertyParameters, Tally, CASE_BUDGET_MS, PROPERTY_RUNS, PROPERTY_SEED } from './property.js';
export { contentStoreSuite, type ContentSuiteOptions } from './content-suite.js';
export { MemoryContentStore } from './memory-content.js';
export { recordStoreSuite, type RecordSuiteOptions } from './record-suite.js';
export { MemoryRecordStore } from './memory-records.js';
export { tagStoreSuite, type TagSuiteOptions } from './tag-suite.js';
export { MemoryTagStore } from './memory-tags.js';
export { snapshotStoreSuite, type SnapshotSuiteOptions } from './snapshot-suite.js';
export { validateImage, type ImageDescription, type ImageLocation, type ValidateImageOptions } from './validate-image.js';
