/**
 * The map style: an offline basemap built from world-atlas (Natural Earth 1:50m countries,
 * converted to GeoJSON at build time by build.mjs), text drawn from the shipped Noto Sans
 * font named in the style's `font-faces` (no glyph server: nothing leaves the machine), and
 * an optional raster tile layer for online users (`?tiles=https://…/{z}/{x}/{y}.png`).
 *
 * Layers, bottom to top: ocean background, [online tiles], country fill, coastlines,
 * borders, sensor coverage, trail, sensors, sensor labels; the aircraft and their labels
 * are drawn on the overlay canvas above (overlay.js, labels_gl.js).
 */

/** The font name used by every text layer; `font-faces` maps it to the shipped file. */
export const LABEL_FONT = 'Noto Sans SemiBold';

const EMPTY = { type: 'FeatureCollection', features: [] };

/** An absolute URL for a file of the static folder (MapLibre's workers need absolute URLs). */
export function staticUrl(path) {
  return new URL(path, document.baseURI).href;
}

/** The MapLibre style object; `tilesUrl` (string or null) adds an online raster layer. */
export function buildStyle(tilesUrl) {
  const sources = {
    countries: { type: 'geojson', data: staticUrl('basemap/countries.json'), tolerance: 0.5 },
    coast: { type: 'geojson', data: staticUrl('basemap/coast.json'), tolerance: 0.5 },
    borders: { type: 'geojson', data: staticUrl('basemap/borders.json'), tolerance: 0.5 },
    sensors: { type: 'geojson', data: EMPTY },
    coverage: { type: 'geojson', data: EMPTY },
    trail: { type: 'geojson', data: EMPTY },
  };
  const layers = [
    { id: 'ocean', type: 'background', paint: { 'background-color': '#0d1b2a' } },
  ];
  if (tilesUrl) {
    sources.online = {
      type: 'raster', tiles: [tilesUrl], tileSize: 256, maxzoom: 19,
      attribution: 'online tiles: see their provider',
    };
    layers.push({ id: 'online', type: 'raster', source: 'online',
      paint: { 'raster-opacity': 0.8 } });
  }
  layers.push(
    { id: 'land', type: 'fill', source: 'countries',
      paint: { 'fill-color': '#1f2d3a', 'fill-opacity': tilesUrl ? 0.2 : 1.0 } },
    { id: 'coast', type: 'line', source: 'coast',
      paint: { 'line-color': '#5c7a99', 'line-width': 1.0 } },
    { id: 'borders', type: 'line', source: 'borders',
      paint: { 'line-color': '#4a5d70', 'line-width': 0.8, 'line-dasharray': [3, 2] } },
    { id: 'coverage', type: 'line', source: 'coverage',
      paint: { 'line-color': '#7fb3d5', 'line-width': 1, 'line-opacity': 0.6,
        'line-dasharray': [2, 2] } },
    { id: 'trail', type: 'line', source: 'trail',
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: { 'line-color': '#ffffff', 'line-width': 2, 'line-opacity': 0.85 } },
    { id: 'sensor-dots', type: 'circle', source: 'sensors',
      paint: { 'circle-radius': 4, 'circle-color': '#7fb3d5',
        'circle-stroke-color': '#0d1b2a', 'circle-stroke-width': 1.5 } },
  );
  return {
    version: 8,
    name: 'skyfuse offline',
    'font-faces': { [LABEL_FONT]: staticUrl('fonts/noto-sans-latin-600-normal.woff2') },
    sources,
    layers,
  };
}

/** Text layers, added once the style has loaded. */
export function labelLayers() {
  return [
    { id: 'sensor-labels', type: 'symbol', source: 'sensors',
      layout: {
        'text-field': ['get', 'name'], 'text-font': [LABEL_FONT], 'text-size': 11,
        'text-anchor': 'top', 'text-offset': [0, 0.6],
      },
      paint: { 'text-color': '#7fb3d5', 'text-halo-color': '#0d1b2a', 'text-halo-width': 1.5 } },
  ];
}
