/** The station's MQTT side: its own client (subscribe, publish commands) and the ingest router with drop counting. */
export { dropReasonLabel, type IngestHandlers, type IngestOutcome, ingestMessage } from './ingest.js';
export { StationLink, type StationLinkOptions, subscriptionFilters } from './station-link.js';
