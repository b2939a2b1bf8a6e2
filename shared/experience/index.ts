/**
 * The experience record and its dataset file: what the onboard runtime records each tick and the ground station
 * stores and trains from. Versioned (EXPERIENCE_SCHEMA_VERSION), validated where it enters a process. No I/O.
 */
export {
  decodeExperienceFile,
  EXPERIENCE_HEADER_BYTES,
  EXPERIENCE_MAGIC,
  type ExperienceDataset,
  encodeExperienceFile,
  encodeExperienceHeader,
  encodeExperienceRecord,
} from './codec.js';
export { crc32 } from './crc32.js';
export {
  EXPERIENCE_RECORD_SCHEMA,
  EXPERIENCE_SCHEMA_MAJOR,
  EXPERIENCE_SCHEMA_VERSION,
  type ExperienceRecord,
  INTERVENTION_LAYERS,
  type InterventionFlags,
  type InterventionLayer,
  interventionBits,
  interventionFlags,
  MAX_POLICY_VERSION_BYTES,
  NO_INTERVENTIONS,
  parseExperienceRecord,
  validateExperienceRecord,
} from './schema.js';
