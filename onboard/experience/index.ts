/** Flight experience for the station and the trainer (shared/experience records). */
export { ExperienceRecorder, type RecorderOptions } from './recorder.js';
