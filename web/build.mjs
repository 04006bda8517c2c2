// Builds the skyfuse web map into ../src/skyfuse/web/static/ (committed, so `pip install`
// needs no npm). Deterministic: the same lock file gives byte-identical output.
//
//   app.js, app.css         esbuild bundles of src/main.js and src/app.css (MapLibre inside)
//   stream-worker.js        the WebSocket/JSON Worker (src/stream_worker.js)
//   render-worker.js        the overlay-drawing Worker (src/render_worker.js)
//   aircraft-gl.js          the instanced aircraft renderer alone (the benchmark's bare page)
//   maplibre-gl-worker.mjs  MapLibre's own worker, copied as shipped
//   basemap/*.json          world-atlas countries-50m TopoJSON → GeoJSON: country fill,
//                           coastlines (arcs used once) and borders (arcs shared by two)
//   fonts/*.woff2           Noto Sans (OFL) for the page and the map labels (`font-faces`)
//   index.html, LICENSES.txt

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { feature, mesh } from 'topojson-client';

const here = dirname(fileURLToPath(import.meta.url));
// The output folder: the package's static/ unless given (the freshness test builds elsewhere).
const out = process.argv[2] ?? join(here, '..', 'src', 'skyfuse', 'web', 'static');
const nm = join(here, 'node_modules');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'basemap'), { recursive: true });
mkdirSync(join(out, 'fonts'), { recursive: true });

const common = {
  bundle: true, format: 'esm', minify: true, target: 'es2022', legalComments: 'none',
  logLevel: 'warning', charset: 'utf8',
};
await build({ ...common, entryPoints: [join(here, 'src', 'main.js')],
  outfile: join(out, 'app.js') });
await build({ ...common, entryPoints: [join(here, 'src', 'stream_worker.js')],
  outfile: join(out, 'stream-worker.js') });
await build({ ...common, entryPoints: [join(here, 'src', 'render_worker.js')],
  outfile: join(out, 'render-worker.js') });
await build({ ...common, entryPoints: [join(here, 'src', 'aircraft_gl.js')],
  outfile: join(out, 'aircraft-gl.js') });
await build({ ...common, entryPoints: [join(here, 'src', 'app.css')],
  outfile: join(out, 'app.css'), external: ['fonts/*'] });

copyFileSync(join(nm, 'maplibre-gl', 'dist', 'maplibre-gl-worker.mjs'),
  join(out, 'maplibre-gl-worker.mjs'));
copyFileSync(join(here, 'src', 'index.html'), join(out, 'index.html'));
for (const w of ['400', '600']) {
  const f = `noto-sans-latin-${w}-normal.woff2`;
  copyFileSync(join(nm, '@fontsource', 'noto-sans', 'files', f), join(out, 'fonts', f));
}

// --- basemap ---------------------------------------------------------------------------
const topo = JSON.parse(readFileSync(join(nm, 'world-atlas', 'countries-50m.json'), 'utf8'));
const round = (v) => Math.round(v * 1000) / 1000;      // 0.001° ≈ 110 m: below 50m detail
const roundDeep = (c) => (typeof c[0] === 'number' ? [round(c[0]), round(c[1])]
  : c.map(roundDeep));

const countries = feature(topo, topo.objects.countries);
for (const f of countries.features) {
  f.geometry.coordinates = roundDeep(f.geometry.coordinates);
  f.properties = { name: f.properties?.name ?? '' };
  delete f.id;
}

// A mesh line running along the antimeridian cut or the south pole edge is an artefact of
// the data's cuts, not a coastline: split lines where two consecutive points both lie there.
const artefact = (a, b) => (Math.abs(a[0]) > 179.99 && Math.abs(b[0]) > 179.99)
  || (a[1] < -89.9 && b[1] < -89.9);
function lines(geom) {
  const outLines = [];
  for (const line of geom.coordinates) {
    let cur = [];
    for (let i = 0; i < line.length; i++) {
      if (i > 0 && artefact(line[i - 1], line[i])) {
        if (cur.length > 1) outLines.push(cur);
        cur = [];
      }
      cur.push([round(line[i][0]), round(line[i][1])]);
    }
    if (cur.length > 1) outLines.push(cur);
  }
  return { type: 'Feature', properties: {}, geometry: { type: 'MultiLineString',
    coordinates: outLines } };
}
const coast = mesh(topo, topo.objects.countries, (a, b) => a === b);
const borders = mesh(topo, topo.objects.countries, (a, b) => a !== b);
const fc = (features) => JSON.stringify({ type: 'FeatureCollection', features });
writeFileSync(join(out, 'basemap', 'countries.json'), JSON.stringify(countries));
writeFileSync(join(out, 'basemap', 'coast.json'), fc([lines(coast)]));
writeFileSync(join(out, 'basemap', 'borders.json'), fc([lines(borders)]));

// --- licences of what ships ------------------------------------------------------------
const lic = (title, path) => `== ${title} ==\n${readFileSync(join(nm, path), 'utf8').trim()}\n`;
writeFileSync(join(out, 'LICENSES.txt'), [
  'Third-party files bundled in this folder and their licences.\n',
  lic('MapLibre GL JS (app.js, maplibre-gl-worker.mjs)', 'maplibre-gl/LICENSE.txt'),
  lic('Noto Sans (fonts/), via @fontsource/noto-sans', '@fontsource/noto-sans/LICENSE'),
  lic('world-atlas (basemap/, derived from Natural Earth, public domain)',
    'world-atlas/LICENSE'),
].join('\n'));
console.log(`built ${out}`);
