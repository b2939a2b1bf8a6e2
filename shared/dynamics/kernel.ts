/**
 * The step kernel: one pass over the fleet's typed arrays, each vehicle integrated through every sub-step with its
 * state held in locals. Nothing here allocates, so the training environment can step thousands of vehicles at
 * tens of kilohertz of simulated time.
 *
 * The vehicle as PX4 flies it in offboard velocity mode:
 * - the velocity setpoint is clamped to the speed limits; the loop asks for a first-order approach to it (exact
 *   discretisation, so the time constant holds at any step size) limited to the acceleration limits;
 * - integral action (a disturbance estimate with time constant windRejectionTimeConstantS, inferred from how the
 *   vehicle actually accelerated versus how it pushed) cancels steady drag and wind, leaving a transient in gusts;
 * - thrust is that acceleration minus the estimate minus gravity, bounded by idle thrust, the tilt limit and the
 *   thrust ceiling (vertical first); linear drag on airspeed is the disturbance; the ground at d = 0 stops it.
 */
import { normalAt, RNG_STATE_WORDS } from '../random/index.js';
import { cellOpenCircuitVoltageV, packCurrentA } from './battery.js';
import type { MultirotorFleet } from './fleet.js';
import type { MultirotorParams } from './params.js';

/** Standard gravity, m/s^2. */
export const GRAVITY_MS2 = 9.80665;

/**
 * Thrust over weight below which a grounded vehicle counts as "low thrust" for the landed detector (a descending
 * setpoint also counts, as in PX4's detector). Hover thrust on the ground with a level setpoint is not landed.
 */
export const LANDED_THRUST_RATIO = 0.5;

/** Components of a decaying gust or turbulence below this (m/s) are set to 0, to keep subnormals out of the loop. */
const TINY = 1e-9;
const TWO_PI = 2 * Math.PI;

export function stepKernel(fleet: MultirotorFleet, p: MultirotorParams, h: number, substeps: number): void {
  const g = GRAVITY_MS2;
  const invH = 1 / h;
  // Exact discretisation of x' = (target - x) / tau over h, written as a rate: (target - x) * k.
  const kVel = -Math.expm1(-h / p.velocityTimeConstantS) * invH;
  const kYaw = -Math.expm1(-h / p.yawTimeConstantS) * invH;
  const kInt = -Math.expm1(-h / p.windRejectionTimeConstantS);
  const ouDecay = Math.exp(-h / p.gustTimeConstantS);
  const ouScale = Math.sqrt(-Math.expm1((-2 * h) / p.gustTimeConstantS));
  const ouScaleD = ouScale * p.verticalGustRatio;
  const injDecay = Math.exp(-h / p.gustDecayTimeConstantS);
  const dragPerMass = p.dragCoefficientKgS / p.massKg;
  const drag = p.dragCoefficientKgS;
  const maxH = p.maxHorizontalSpeedMS;
  const maxUp = p.maxClimbSpeedMS;
  const maxDown = p.maxDescentSpeedMS;
  const accH = p.maxHorizontalAccelMS2;
  const accV = p.maxVerticalAccelMS2;
  const tanTilt = Math.tan(p.maxTiltRad);
  const fMax = p.maxThrustToWeight * g;
  const fMin = p.idleThrustToWeight * g;
  const fLanded = LANDED_THRUST_RATIO * g;
  const maxYawRate = p.maxYawRateRadS;
  const hoverW = p.hoverPowerW;
  const climbWPerMS = (p.massKg * g) / p.propulsionEfficiency;
  const cells = p.batteryCellCount;
  const rOhm = p.batteryInternalResistanceOhm;
  const capacityJ = p.batteryCapacityWh * 3600;
  const landTime = p.landDetectTimeS;
  const hardImpact = p.hardImpactSpeedMS;

  const pos = fleet.positionNedM;
  const vel = fleet.velocityNedMS;
  const acc = fleet.accelerationNedMS2;
  const rollA = fleet.rollRad;
  const pitchA = fleet.pitchRad;
  const yawA = fleet.yawRad;
  const rollRateA = fleet.rollRateRadS;
  const pitchRateA = fleet.pitchRateRadS;
  const yawRateA = fleet.yawRateRadS;
  const thrustA = fleet.thrustRatio;
  const windA = fleet.windNedMS;
  const landedA = fleet.landed;
  const contactA = fleet.groundContact;
  const impactsA = fleet.hardImpactCount;
  const touchdownA = fleet.touchdownSpeedMS;
  const remainingA = fleet.batteryRemaining;
  const voltA = fleet.batteryVoltageV;
  const currentA = fleet.batteryCurrentA;
  const powerA = fleet.batteryPowerW;
  const energyA = fleet.energyUsedWh;
  const failedA = fleet.batteryFailed;
  const meanA = fleet.windMeanNedMS;
  const gustStdA = fleet.gustStdMS;
  const turbA = fleet.turbulenceNedMS;
  const injA = fleet.injectedGustNedMS;
  const distA = fleet.disturbanceEstimateNedMS2;
  const landTimerA = fleet.landedTimerS;
  const rng = fleet.rngState;
  const spA = fleet.velocitySetpointNedMS;
  const yawSpA = fleet.yawSetpointRad;
  const motorsA = fleet.motorsOn;

  for (let i = 0, n = fleet.count; i < n; i++) {
    const i3 = 3 * i;
    const ro = RNG_STATE_WORDS * i;
    let pn = pos[i3];
    let pe = pos[i3 + 1];
    let pd = pos[i3 + 2];
    let vn = vel[i3];
    let ve = vel[i3 + 1];
    let vd = vel[i3 + 2];
    let an = 0;
    let ae = 0;
    let ad = 0;
    let roll = rollA[i];
    let pitch = pitchA[i];
    let yaw = yawA[i];
    let rollRate = 0;
    let pitchRate = 0;
    let yawRate = 0;
    let tn = turbA[i3];
    let te = turbA[i3 + 1];
    let td = turbA[i3 + 2];
    let gn = injA[i3];
    let ge = injA[i3 + 1];
    let gd = injA[i3 + 2];
    let wn = windA[i3];
    let we = windA[i3 + 1];
    let wd = windA[i3 + 2];
    let xn = distA[i3];
    let xe = distA[i3 + 1];
    let xd = distA[i3 + 2];
    let landed = landedA[i];
    let contact = contactA[i];
    let landTimer = landTimerA[i];
    let remaining = remainingA[i];
    let thrust = thrustA[i];
    let volt = voltA[i];
    let current = currentA[i];
    let power = powerA[i];
    let energyWh = energyA[i];
    const failed = failedA[i];
    const gustStd = gustStdA[i];
    const motors = motorsA[i];
    const meanN = meanA[i3];
    const meanE = meanA[i3 + 1];
    const meanD = meanA[i3 + 2];

    // The setpoint is the same for every sub-step: clamp it once. NaN means "no command on this axis": hold.
    let sn = spA[i3];
    let se = spA[i3 + 1];
    let sd = spA[i3 + 2];
    if (Number.isNaN(sn)) sn = 0;
    if (Number.isNaN(se)) se = 0;
    if (Number.isNaN(sd)) sd = 0;
    const sh2 = sn * sn + se * se;
    if (sh2 > maxH * maxH) {
      const k = maxH / Math.sqrt(sh2);
      sn *= k;
      se *= k;
    }
    if (sd < -maxUp) sd = -maxUp;
    else if (sd > maxDown) sd = maxDown;
    const yawSp = yawSpA[i];

    for (let s = 0; s < substeps; s++) {
      // Wind: mean + Ornstein-Uhlenbeck turbulence (exact discretisation) + injected gusts decaying.
      if (gustStd > 0) {
        const sigma = gustStd * ouScale;
        tn = tn * ouDecay + sigma * normalAt(rng, ro);
        te = te * ouDecay + sigma * normalAt(rng, ro);
        td = td * ouDecay + gustStd * ouScaleD * normalAt(rng, ro);
      } else if (tn !== 0 || te !== 0 || td !== 0) {
        tn = Math.abs(tn) < TINY ? 0 : tn * ouDecay;
        te = Math.abs(te) < TINY ? 0 : te * ouDecay;
        td = Math.abs(td) < TINY ? 0 : td * ouDecay;
      }
      if (gn !== 0 || ge !== 0 || gd !== 0) {
        gn = Math.abs(gn) < TINY ? 0 : gn * injDecay;
        ge = Math.abs(ge) < TINY ? 0 : ge * injDecay;
        gd = Math.abs(gd) < TINY ? 0 : gd * injDecay;
      }
      wn = meanN + tn + gn;
      we = meanE + te + ge;
      wd = meanD + td + gd;

      const powered = motors === 1 && failed === 0 && remaining > 0;

      // Specific thrust (thrust / mass), m/s^2 NED. Zero without power.
      let fn = 0;
      let fe = 0;
      let fd = 0;
      if (powered) {
        let cn = (sn - vn) * kVel;
        let ce = (se - ve) * kVel;
        let cd = (sd - vd) * kVel;
        const ch2 = cn * cn + ce * ce;
        if (ch2 > accH * accH) {
          const k = accH / Math.sqrt(ch2);
          cn *= k;
          ce *= k;
        }
        if (cd > accV) cd = accV;
        else if (cd < -accV) cd = -accV;
        if (landed === 1 && cd >= 0) {
          // Landed and not asked to climb: motors idle, as PX4 keeps them until a take-off setpoint.
          fd = -fMin;
        } else {
          if (contact === 0) {
            // In flight the achieved acceleration is the command plus the integral term's error (drag now minus what
            // it has learnt). Keep that sum within the limits too, so a command that turns sharply cannot add to a
            // lagging estimate; a disturbance that alone exceeds a limit is not fought harder than it pushes.
            const en = -dragPerMass * (vn - wn) - xn;
            const ee = -dragPerMass * (ve - we) - xe;
            const ed = -dragPerMass * (vd - wd) - xd;
            const nn = cn + en;
            const ne = ce + ee;
            const n2 = nn * nn + ne * ne;
            const e2 = en * en + ee * ee;
            const limit2 = e2 > accH * accH ? e2 : accH * accH;
            if (n2 > limit2) {
              const k = Math.sqrt(limit2 / n2);
              cn = nn * k - en;
              ce = ne * k - ee;
            }
            const limitD = ed > accV || ed < -accV ? Math.abs(ed) : accV;
            if (cd + ed > limitD) cd = limitD - ed;
            else if (cd + ed < -limitD) cd = -limitD - ed;
          }
          fn = cn - xn;
          fe = ce - xe;
          fd = cd - xd - g;
          if (fd > -fMin) fd = -fMin;
          else if (fd < -fMax) fd = -fMax;
          // Horizontal thrust within the tilt limit and what the ceiling leaves after the vertical share.
          let fhMax = -fd * tanTilt;
          const left2 = fMax * fMax - fd * fd;
          if (left2 < fhMax * fhMax) fhMax = left2 > 0 ? Math.sqrt(left2) : 0;
          const fh2 = fn * fn + fe * fe;
          if (fh2 > fhMax * fhMax) {
            const k = fhMax / Math.sqrt(fh2);
            fn *= k;
            fe *= k;
          }
        }
      }

      // Newton: thrust + gravity + linear drag on airspeed. Semi-implicit Euler.
      const vn0 = vn;
      const ve0 = ve;
      const vd0 = vd;
      const pn0 = pn;
      const pe0 = pe;
      vn += (fn - dragPerMass * (vn - wn)) * h;
      ve += (fe - dragPerMass * (ve - we)) * h;
      vd += (fd + g - dragPerMass * (vd - wd)) * h;
      pn += vn * h;
      pe += ve * h;
      pd += vd * h;

      // Flat ground at d = 0: no penetration; contact stops the vehicle where it touched (friction holds it
      // against wind and horizontal thrust too).
      if (pd >= 0) {
        if (contact === 0) {
          const speed = Math.sqrt(vn * vn + ve * ve + vd * vd);
          touchdownA[i] = speed;
          if (speed >= hardImpact) impactsA[i]++;
        }
        contact = 1;
        pn = pn0;
        pe = pe0;
        pd = 0;
        vn = 0;
        ve = 0;
        vd = 0;
      } else {
        contact = 0;
      }
      an = (vn - vn0) * invH;
      ae = (ve - ve0) * invH;
      ad = (vd - vd0) * invH;

      const f2 = fn * fn + fe * fe + fd * fd;
      const fAbs = Math.sqrt(f2);
      thrust = fAbs / g;

      // Landed detector: on the ground, with low thrust or still asked to descend (PX4 checks both), for
      // landDetectTimeS; cleared the moment it leaves the ground. Contact has zeroed the speed already.
      if (contact === 0) {
        landed = 0;
        landTimer = 0;
      } else if (landed === 0) {
        if (fAbs <= fLanded || sd > 0) {
          landTimer += h;
          if (landTimer >= landTime) landed = 1;
        } else {
          landTimer = 0;
        }
      }

      // Integral action. It learns the disturbance as the gap between the acceleration achieved and the thrust
      // given, like PX4's velocity integrator; on the ground that gap includes the ground's push, so a descending
      // setpoint winds thrust down, as it does in PX4 before the land detector fires. Reset when landed or off.
      if (powered && landed === 0) {
        xn += (an - fn - xn) * kInt;
        xe += (ae - fe - xe) * kInt;
        xd += (ad - fd - g - xd) * kInt;
        if (xn > g) xn = g;
        else if (xn < -g) xn = -g;
        if (xe > g) xe = g;
        else if (xe < -g) xe = -g;
        if (xd > g) xd = g;
        else if (xd < -g) xd = -g;
      } else {
        xn = 0;
        xe = 0;
        xd = 0;
      }

      // Heading: first-order towards the setpoint at a limited rate, only in flight.
      yawRate = 0;
      if (powered && contact === 0 && !Number.isNaN(yawSp)) {
        let err = yawSp - yaw;
        err -= TWO_PI * Math.round(err / TWO_PI);
        yawRate = err * kYaw;
        if (yawRate > maxYawRate) yawRate = maxYawRate;
        else if (yawRate < -maxYawRate) yawRate = -maxYawRate;
        yaw += yawRate * h;
        if (yaw > Math.PI) yaw -= TWO_PI;
        else if (yaw <= -Math.PI) yaw += TWO_PI;
      }

      // Attitude: the thrust vector's direction (tilted into the wind, or to accelerate), expressed in the heading
      // frame. Level on the ground; unpowered in the air there is no torque model, so the last attitude stays.
      const roll0 = roll;
      const pitch0 = pitch;
      if (contact === 1) {
        roll = 0;
        pitch = 0;
      } else if (powered && fAbs > 1e-9) {
        const cy = Math.cos(yaw);
        const sy = Math.sin(yaw);
        const fx = cy * fn + sy * fe;
        const fy = cy * fe - sy * fn;
        roll = Math.asin(fy / fAbs);
        pitch = Math.atan2(-fx, -fd);
      }
      rollRate = (roll - roll0) * invH;
      pitchRate = (pitch - pitch0) * invH;

      // Battery: induced power ~ thrust^1.5 (momentum theory), plus climb work, plus a little parasitic power with
      // airspeed. The pack supplies it through its internal resistance; the chemistry pays for the losses too.
      if (failed === 0) {
        let demandW = 0;
        if (powered) {
          demandW = hoverW * thrust * Math.sqrt(thrust);
          if (vd < 0) demandW -= climbWPerMS * vd;
          if (contact === 0) {
            const rn = vn - wn;
            const re = ve - we;
            const rd = vd - wd;
            demandW += drag * (rn * rn + re * re + rd * rd);
          }
        }
        const ocv = cells * cellOpenCircuitVoltageV(remaining);
        current = packCurrentA(ocv, rOhm, demandW);
        volt = ocv - current * rOhm;
        power = volt * current;
        const drawnJ = ocv * current * h;
        energyWh += drawnJ / 3600;
        remaining -= drawnJ / capacityJ;
        if (remaining < 0) remaining = 0;
      }
    }

    pos[i3] = pn;
    pos[i3 + 1] = pe;
    pos[i3 + 2] = pd;
    vel[i3] = vn;
    vel[i3 + 1] = ve;
    vel[i3 + 2] = vd;
    acc[i3] = an;
    acc[i3 + 1] = ae;
    acc[i3 + 2] = ad;
    rollA[i] = roll;
    pitchA[i] = pitch;
    yawA[i] = yaw;
    rollRateA[i] = rollRate;
    pitchRateA[i] = pitchRate;
    yawRateA[i] = yawRate;
    thrustA[i] = thrust;
    turbA[i3] = tn;
    turbA[i3 + 1] = te;
    turbA[i3 + 2] = td;
    injA[i3] = gn;
    injA[i3 + 1] = ge;
    injA[i3 + 2] = gd;
    windA[i3] = wn;
    windA[i3 + 1] = we;
    windA[i3 + 2] = wd;
    distA[i3] = xn;
    distA[i3 + 1] = xe;
    distA[i3 + 2] = xd;
    landedA[i] = landed;
    contactA[i] = contact;
    landTimerA[i] = landTimer;
    remainingA[i] = remaining;
    voltA[i] = volt;
    currentA[i] = current;
    powerA[i] = power;
    energyA[i] = energyWh;
  }
}
