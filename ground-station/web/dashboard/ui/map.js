// The fleet map: no tiles (the station may have no internet), Leaflet on CRS.Simple where one unit is one metre,
// latitude = north and longitude = east of the fleet origin (the first depot). Drones are rotated arrows with short
// trails; depots, drop points, the geofence and no-fly zones are vector layers.
import * as L from '/vendor/leaflet/leaflet-src.esm.js';

const TRAIL_POINTS = 40;
const LABELS_UP_TO = 30;
const EARTH_RADIUS_M = 6_371_000;
const rad = (deg) => (deg * Math.PI) / 180;

/** Equirectangular NE metres of `p` from `ref` (the station's own projection). */
export function geoToNe(ref, p) {
  return {
    n: rad(p.latDeg - ref.latDeg) * EARTH_RADIUS_M,
    e: rad(p.lonDeg - ref.lonDeg) * EARTH_RADIUS_M * Math.cos(rad(ref.latDeg)),
  };
}

export class FleetMap {
  constructor(element, { onDroneClick, onMapClick }) {
    this.map = L.map(element, {
      crs: L.CRS.Simple,
      minZoom: -4,
      maxZoom: 4,
      zoomSnap: 0.25,
      attributionControl: false,
    });
    this.map.setView([0, 0], 0);
    this.renderer = L.canvas({ padding: 0.2 });
    this.layers = {
      airspace: L.layerGroup().addTo(this.map),
      depots: L.layerGroup().addTo(this.map),
      drops: L.layerGroup().addTo(this.map),
      trails: L.layerGroup().addTo(this.map),
      drones: L.layerGroup().addTo(this.map),
    };
    L.control
      .layers(null, {
        airspace: this.layers.airspace,
        depots: this.layers.depots,
        'drop points': this.layers.drops,
        trails: this.layers.trails,
        drones: this.layers.drones,
      })
      .addTo(this.map);
    L.control.scale({ imperial: false, metric: true }).addTo(this.map);
    this.drones = new Map();
    this.origin = null;
    this.fitted = false;
    this.selected = null;
    this.onDroneClick = onDroneClick;
    this.pending = null;
    this.map.on('click', (e) => onMapClick({ northM: Math.round(e.latlng.lat), eastM: Math.round(e.latlng.lng) }));
  }

  setOrigin(origin, depots) {
    this.origin = origin;
    this.layers.depots.clearLayers();
    for (const d of depots) {
      L.circleMarker([d.northM, d.eastM], { renderer: this.renderer, radius: 9, color: '#e0a030', weight: 2 })
        .bindTooltip(`depot ${d.id}`)
        .addTo(this.layers.depots);
    }
    if (!this.fitted) this.map.setView([0, 0], 0);
  }

  /** Airspace as GET /api/airspace answers it (the fleet message: origin + airspace in NE metres from it). */
  setAirspace(message) {
    this.layers.airspace.clearLayers();
    if (!message?.airspace) return;
    const shift = this.origin && message.origin ? geoToNe(this.origin, message.origin) : { n: 0, e: 0 };
    const pt = (p) => [p.n + shift.n, p.e + shift.e];
    const a = message.airspace;
    if (a.geofence) {
      L.polygon(a.geofence.polygonNeM.map(pt), { color: '#4aa3ff', weight: 2, fill: false, dashArray: '6 4' })
        .bindTooltip(`geofence, ceiling ${a.geofence.ceilingM} m`)
        .addTo(this.layers.airspace);
    }
    for (const z of a.noFlyZones ?? []) {
      const style = { color: '#e05252', weight: 1, fillOpacity: 0.2 };
      const layer =
        z.kind === 'cylinder'
          ? L.circle(pt(z.centerNeM), { ...style, radius: z.radiusM })
          : L.polygon(z.polygonNeM.map(pt), style);
      layer.bindTooltip(`no-fly ${z.id}`).addTo(this.layers.airspace);
    }
  }

  /** Drop points of open orders: [{id, northM, eastM, status}]. */
  setDrops(drops) {
    this.layers.drops.clearLayers();
    for (const d of drops) {
      L.circleMarker([d.northM, d.eastM], {
        renderer: this.renderer,
        radius: 5,
        color: d.status === 'queued' ? '#8a9aab' : '#3fb37f',
        weight: 2,
      })
        .bindTooltip(`${d.id} (${d.status})`)
        .addTo(this.layers.drops);
    }
  }

  /** Place a pending drop (from a click) until the order is created. */
  setPendingDrop(p) {
    if (this.pending) this.pending.remove();
    this.pending = p
      ? L.circleMarker([p.northM, p.eastM], { radius: 7, color: '#fff', weight: 2, dashArray: '2 2' }).addTo(this.map)
      : null;
  }

  select(id) {
    this.selected = id;
    for (const [did, d] of this.drones) d.element?.classList.toggle('selected', did === id);
  }

  /** Apply drone frames (only the changed ones). */
  update(frames) {
    for (const f of frames) {
      let d = this.drones.get(f.id);
      if (f.northM === null) continue;
      const at = [f.northM, f.eastM];
      if (!d) {
        const icon = L.divIcon({ className: 'drone-icon', html: '<div class="arrow"></div>', iconSize: [22, 22] });
        const marker = L.marker(at, { icon, title: f.id, keyboard: false }).addTo(this.layers.drones);
        // Permanent labels for a small fleet; on hover for a large one (hundreds of labels cost a layout each).
        const permanent = this.drones.size < LABELS_UP_TO;
        marker.bindTooltip(f.id, { permanent, direction: 'right', offset: [10, 0], className: 'drone-label' });
        marker.on('click', (e) => {
          L.DomEvent.stopPropagation(e);
          this.onDroneClick(f.id);
        });
        const trail = L.polyline([at], { renderer: this.renderer, color: '#4aa3ff', weight: 1.5, opacity: 0.6 });
        trail.addTo(this.layers.trails);
        d = { marker, trail, points: [at], element: marker.getElement(), headingDeg: null, health: null };
        d.element?.setAttribute('data-drone-id', f.id);
        this.drones.set(f.id, d);
      } else {
        d.marker.setLatLng(at);
        const last = d.points[d.points.length - 1];
        if (Math.hypot(last[0] - at[0], last[1] - at[1]) > 0.5) {
          d.points.push(at);
          if (d.points.length > TRAIL_POINTS) d.points.shift();
          d.trail.setLatLngs(d.points);
        }
      }
      const el = d.element;
      if (el) {
        el.dataset.north = String(f.northM);
        el.dataset.east = String(f.eastM);
        if (f.headingDeg !== d.headingDeg && f.headingDeg !== null) {
          el.firstChild.style.transform = `rotate(${f.headingDeg}deg)`;
          d.headingDeg = f.headingDeg;
        }
        if (f.health !== d.health) {
          el.classList.remove(`health-${d.health}`);
          el.classList.add(`health-${f.health}`);
          d.health = f.health;
        }
      }
    }
    if (!this.fitted && this.drones.size > 0) {
      const pts = [...this.drones.values()].map((d) => d.marker.getLatLng());
      // At least the hundred-odd metres around the depot that deliveries span.
      const bounds = L.latLngBounds([
        [-150, -150],
        [150, 150],
      ]);
      for (const p of pts) bounds.extend(p);
      this.map.fitBounds(bounds, { maxZoom: 1 });
      this.fitted = true;
    }
  }

  remove(ids) {
    for (const id of ids) {
      const d = this.drones.get(id);
      if (!d) continue;
      d.marker.remove();
      d.trail.remove();
      this.drones.delete(id);
    }
  }

  clear() {
    this.remove([...this.drones.keys()]);
  }
}
