/**
 * Geodesy and airspace geometry. Local frame: NED metres from a reference point (the home/depot), flat-earth
 * (equirectangular) projection, accurate to well under a metre over the few kilometres a delivery spans.
 */
export * from './airspace.js';
export { AIRSPACE_SCHEMA, parseAirspace } from './airspace-schema.js';

/** Mean Earth radius (m), as PX4's map projection uses. */
export const EARTH_RADIUS_M = 6_371_000;

export const degToRad = (deg: number): number => (deg * Math.PI) / 180;
export const radToDeg = (rad: number): number => (rad * 180) / Math.PI;

/** A geodetic position: degrees and metres above mean sea level. */
export interface GeoPoint {
  readonly latDeg: number;
  readonly lonDeg: number;
  readonly altAmslM: number;
}

/** A vector in the local NED frame (metres, or m/s, as the name using it says). */
export interface Ned {
  readonly n: number;
  readonly e: number;
  readonly d: number;
}

/** Project a geodetic point into the local NED frame of `ref`. */
export function geoToNed(ref: GeoPoint, p: GeoPoint): Ned {
  const n = degToRad(p.latDeg - ref.latDeg) * EARTH_RADIUS_M;
  const e = degToRad(p.lonDeg - ref.lonDeg) * EARTH_RADIUS_M * Math.cos(degToRad(ref.latDeg));
  return { n, e, d: ref.altAmslM - p.altAmslM };
}

/** Inverse of geoToNed. */
export function nedToGeo(ref: GeoPoint, v: Ned): GeoPoint {
  return {
    latDeg: ref.latDeg + radToDeg(v.n / EARTH_RADIUS_M),
    lonDeg: ref.lonDeg + radToDeg(v.e / (EARTH_RADIUS_M * Math.cos(degToRad(ref.latDeg)))),
    altAmslM: ref.altAmslM - v.d,
  };
}

/** Parse "lat,lon,alt" (degrees, degrees, metres AMSL). */
export function parseGeoPoint(text: string): GeoPoint | null {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) return null;
  const [latDeg, lonDeg, altAmslM] = parts;
  if (Math.abs(latDeg) > 90 || Math.abs(lonDeg) > 180) return null;
  return { latDeg, lonDeg, altAmslM };
}

export function wrapPi(rad: number): number {
  let a = (rad + Math.PI) % (2 * Math.PI);
  if (a < 0) a += 2 * Math.PI;
  return a - Math.PI;
}
