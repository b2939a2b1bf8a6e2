/**
 * The station's MQTT broker side: credentials (scrypt + Mosquitto hashes), the access rule, the embedded aedes broker
 * with authentication and per-drone ACL, the Mosquitto config generator, and the drop counters.
 */
export {
  addCredential,
  BROKER_ROLES,
  type BrokerRole,
  CredentialChecker,
  type CredentialEntry,
  type CredentialsFile,
  EMPTY_CREDENTIALS,
  loadCredentials,
  parseCredentials,
  saveCredentials,
  USERNAME_PATTERN,
} from './credentials.js';
export { DropCounters } from './drops.js';
export {
  droneClientIdAllowed,
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
  mqttPortInUseMessage,
  startEmbeddedBroker,
} from './embedded.js';
export { mosquittoAclFile, mosquittoFiles, mosquittoPasswordFile, writeMosquittoConfig } from './mosquitto-config.js';
export {
  DEFAULT_SCRYPT_COST,
  generatePassword,
  hashPasswordMosquitto,
  hashPasswordScrypt,
  type ScryptCost,
  verifyPasswordMosquitto,
  verifyPasswordScrypt,
} from './passwords.js';
