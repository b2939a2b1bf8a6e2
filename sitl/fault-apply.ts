/**
 * What each fault does to a simulated vehicle: link faults go to its transports' filters, physical faults to its
 * dynamics, GPS loss and death to the vehicle. A duration schedules the undo in simulated time.
 */
import type { Fault, FaultyTransport, LinkSelector } from './faults.js';
import type { SimVehicle } from './vehicle/index.js';

export interface FaultContext {
  readonly vehicle: SimVehicle;
  /** The vehicle's link transports a selector picks. */
  links(selector: LinkSelector | undefined): FaultyTransport[];
  /** Run `undo` after `delayS` simulated seconds. */
  later(delayS: number, undo: () => void): void;
}

export function applyFault(ctx: FaultContext, fault: Fault): void {
  const v = ctx.vehicle;
  const until = (durationS: number | undefined, undo: () => void): void => {
    if (durationS !== undefined) ctx.later(durationS, undo);
  };
  switch (fault.kind) {
    case 'link-drop': {
      const inDir = fault.direction !== 'out';
      const outDir = fault.direction !== 'in';
      for (const t of ctx.links(fault.link)) {
        if (inDir) t.faults.dropIn = true;
        if (outDir) t.faults.dropOut = true;
        until(fault.durationS, () => {
          if (inDir) t.faults.dropIn = false;
          if (outDir) t.faults.dropOut = false;
        });
      }
      return;
    }
    case 'packet-loss':
      for (const t of ctx.links(fault.link)) {
        t.faults.lossPercent = fault.percent;
        until(fault.durationS, () => {
          t.faults.lossPercent = 0;
        });
      }
      return;
    case 'corrupt':
      for (const t of ctx.links(fault.link)) {
        t.faults.corruptPercent = fault.percent;
        until(fault.durationS, () => {
          t.faults.corruptPercent = 0;
        });
      }
      return;
    case 'gps-loss':
      v.gpsOk = false;
      until(fault.durationS, () => {
        v.gpsOk = true;
      });
      return;
    case 'gust':
      v.body.addGust(0, [fault.northMS, fault.eastMS, fault.downMS]);
      return;
    case 'wind':
      v.body.setWind(0, [fault.northMS, fault.eastMS, fault.downMS], fault.gustStdMS);
      return;
    case 'battery-fail':
      v.body.failBattery(0);
      return;
    case 'battery-low':
      v.body.setBatteryRemaining(0, fault.remaining);
      return;
    case 'die':
      v.dead = true;
      return;
    case 'clear':
      for (const t of ctx.links('all')) t.clear();
      v.gpsOk = true;
      return;
  }
}
