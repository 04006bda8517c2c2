/**
 * Geodesy for the map, in the units MapLibre draws with.
 *
 * MapLibre's "mercator coordinate" is Web Mercator normalised to the unit square:
 *
 *     x = (lon_deg + 180) / 360
 *     y = (180 - (180/π) · ln(tan(π/4 + lat_rad/2))) / 360        (y grows southward)
 *
 * Mercator is conformal, so near a point a metre east and a metre north both span
 * 1 / (C · cos lat) mercator units, C = 2π · 6378137 m (the equatorial circumference). A
 * velocity (v_east, v_north) in m/s is therefore, in mercator units per second,
 *
 *     dx/dt =  v_east  / (C · cos lat)
 *     dy/dt = -v_north / (C · cos lat)
 *
 * which the aircraft shader uses to extrapolate positions between updates.
 */

export const EARTH_RADIUS_M = 6378137.0;
export const EARTH_CIRCUMFERENCE_M = 2 * Math.PI * EARTH_RADIUS_M;
export const KT_TO_MPS = 1852 / 3600;
const DEG = Math.PI / 180;
const MAX_LAT_DEG = 85.051129;

/** Mercator x (0..1) of a longitude in degrees. */
export function mercX(lon_deg) {
  return (lon_deg + 180) / 360;
}

/** Mercator y (0..1, south-growing) of a latitude in degrees (clamped to ±85.05°). */
export function mercY(lat_deg) {
  const lat = Math.max(-MAX_LAT_DEG, Math.min(MAX_LAT_DEG, lat_deg)) * DEG;
  return (180 - (180 / Math.PI) * Math.log(Math.tan(Math.PI / 4 + lat / 2))) / 360;
}

/** Longitude in degrees of a mercator x. */
export function lonOfMercX(x) {
  return x * 360 - 180;
}

/** Latitude in degrees of a mercator y. */
export function latOfMercY(y) {
  const y2 = 180 - y * 360;
  return (360 / Math.PI) * Math.atan(Math.exp(y2 * DEG)) - 90;
}

/** Mercator units per metre at a latitude (degrees). */
export function mercPerMetre(lat_deg) {
  const c = Math.max(Math.cos(Math.max(-MAX_LAT_DEG, Math.min(MAX_LAT_DEG, lat_deg)) * DEG), 1e-6);
  return 1 / (EARTH_CIRCUMFERENCE_M * c);
}

/**
 * A geodesic circle as a closed GeoJSON ring of [lon, lat] (spherical Earth: the
 * destination-point formula, φ2 = asin(sin φ1 cos δ + cos φ1 sin δ cos θ), λ2 = λ1 +
 * atan2(sin θ sin δ cos φ1, cos δ − sin φ1 sin φ2), δ = range / R).
 */
export function circleRing(lat_deg, lon_deg, range_m, points = 96) {
  const ring = [];
  const phi1 = lat_deg * DEG;
  const lam1 = lon_deg * DEG;
  const delta = range_m / EARTH_RADIUS_M;
  for (let i = 0; i <= points; i++) {
    const theta = (2 * Math.PI * i) / points;
    const phi2 = Math.asin(Math.sin(phi1) * Math.cos(delta)
      + Math.cos(phi1) * Math.sin(delta) * Math.cos(theta));
    const lam2 = lam1 + Math.atan2(Math.sin(theta) * Math.sin(delta) * Math.cos(phi1),
      Math.cos(delta) - Math.sin(phi1) * Math.sin(phi2));
    ring.push([((lam2 / DEG + 540) % 360) - 180, phi2 / DEG]);
  }
  return ring;
}

/** Flight level text of a barometric altitude in feet ("FL350", "2500 ft" below FL100). */
export function altitudeText(alt_ft) {
  if (alt_ft === null || alt_ft === undefined || Number.isNaN(alt_ft)) return '';
  if (alt_ft >= 10000) return `FL${String(Math.round(alt_ft / 100)).padStart(3, '0')}`;
  return `${Math.round(alt_ft / 100) * 100} ft`;
}
