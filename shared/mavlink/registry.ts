/**
 * The merged message registry the project speaks: MAVLink's minimal, common and development dialects (PX4's set
 * minus a few PX4-only messages, which are counted as unknown and ignored). One lookup by message id.
 */
import { common, development, type MavLinkData, type MavLinkDataConstructor, minimal } from 'node-mavlink';

export type MessageClass = MavLinkDataConstructor<MavLinkData> & {
  MSG_ID: number;
  MSG_NAME: string;
  MAGIC_NUMBER: number;
  PAYLOAD_LENGTH: number;
};

const merged: Record<number, MessageClass> = {
  ...(development.REGISTRY as unknown as Record<number, MessageClass>),
  ...(common.REGISTRY as unknown as Record<number, MessageClass>),
  ...(minimal.REGISTRY as unknown as Record<number, MessageClass>),
};

/** Message classes by id (dense array for the hot path; undefined for ids the project does not know). */
export const MESSAGE_BY_ID: ReadonlyMap<number, MessageClass> = new Map(
  Object.entries(merged).map(([id, cls]) => [Number(id), cls]),
);

export function messageName(msgid: number): string {
  return MESSAGE_BY_ID.get(msgid)?.MSG_NAME ?? `UNKNOWN_${msgid}`;
}
