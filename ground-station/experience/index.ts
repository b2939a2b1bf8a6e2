/** Fleet experience: received batches kept once per (drone, session, seq), exported as a shared/experience file. */
export { type ExperienceFilter, type ExperienceStats, ExperienceStore } from './experience-store.js';
