/**
 * The MAVLink layer shared by sitl/ and onboard/: framing with a sequence per link, the message registry, PX4 modes,
 * command helpers, signing, and UDP/serial transports behind one interface.
 */
export { common, development, type MavLinkData, minimal } from 'node-mavlink';
export * from './commands.js';
export { decodeFrame, type Frame, FrameEncoder, FrameParser, type ParseCounters } from './frame.js';
export { fieldOffsets, InPlaceMessage } from './in-place.js';
export { type DecodedFields, InPlaceDecoder } from './in-place-decode.js';
export { type LinkCounters, type LinkOptions, MavlinkLink, type MessageHandler, type SigningOptions } from './link.js';
export * from './px4-modes.js';
export { MESSAGE_BY_ID, type MessageClass, messageName } from './registry.js';
export * from './signing.js';
export { readTlog, type TlogRecord } from './tlog.js';
export * from './transport.js';
