/** Deliveries: the request schema and its resolution into orders, and the dispatcher that moves orders to drones. */
export { type AssignOptions, abortCommand, assignDeliveryCommand, commandRecord, newCommandId } from './commands.js';
export {
  type CommandSender,
  Dispatcher,
  type DispatcherOptions,
  type DispatcherStats,
} from './dispatcher.js';
export { assignableDrones, deliveryOrder } from './planning.js';
export {
  DELIVERY_REQUEST_SCHEMA,
  type DeliveryRequest,
  type Depot,
  newOrderId,
  orderView,
  parseDepots,
  type RequestIssue,
  type ResolveOptions,
  resolveDeliveryRequest,
} from './request.js';
export { DEFAULT_RISK_MODEL, orderRiskScore, type RiskModel, type RiskOrder, routeZoneClearanceM } from './risk.js';
