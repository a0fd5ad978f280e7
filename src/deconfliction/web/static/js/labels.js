// Names on the map, decluttered: every label says its priority, and at each move or zoom the labels are laid
// out from the highest priority down, a label whose box would touch one already placed being left out (the
// place name gives way to the protected site, the small town to the city). Drawn as plain text in a pane of
// their own, above the shapes and below the markers, so they never take a click meant for the map.
/* global L */

const FONT_PX = 12;
const MARK = { place: "• ", sites: "✚ " }; // drawn before the name by app.css (::before), measured with it
const PAD = 3; // px kept clear around each label

/** A label: `{latlng: [lat, lon], text, priority, kind, minZoom?, anchor?: "centre" | "right"}`, or with
 * `latlngs` (candidate spots, the first free one taken) instead of `latlng`. */
export class Labels {
  constructor(map) {
    this.map = map;
    this.pane = map.createPane("labels");
    this.pane.classList.add("labels-pane");
    this.sets = new Map();
    this.ruler = document.createElement("canvas").getContext("2d");
    this.widths = new Map();
    this.pending = false;
    this.hidden = 0;
    this.covers = []; // elements over the map (the legend): no label under them
    map.on("zoomend moveend resize viewreset", () => this.schedule());
    map.on("zoomstart", () => this.pane.replaceChildren());
  }

  /** Keep labels out from under an element laid over the map (and lay them out again when it changes size). */
  avoid(element) {
    this.covers.push(element);
    element.addEventListener("toggle", () => this.schedule());
  }

  /** Replace one named set of labels (the basemap's places, the situation's objects, the grid's squares). */
  set(name, items) {
    this.sets.set(name, items);
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.layout();
    });
  }

  width(text, bold) {
    const key = `${bold ? "b" : ""}${text}`;
    let w = this.widths.get(key);
    if (w === undefined) {
      this.ruler.font = `${bold ? "bold " : ""}${FONT_PX}px "DejaVu Sans", system-ui, sans-serif`;
      w = Math.ceil(this.ruler.measureText(text).width) + 6;
      this.widths.set(key, w);
    }
    return w;
  }

  layout() {
    const map = this.map;
    const size = map.getSize();
    const zoom = map.getZoom();
    const candidates = [];
    for (const items of this.sets.values()) {
      for (const item of items) if (!item.minZoom || zoom >= item.minZoom) candidates.push(item);
    }
    candidates.sort((a, b) => b.priority - a.priority);
    // nothing under the map's own controls, nor under the legend that floats over the map
    const frame = map.getContainer().getBoundingClientRect();
    const placed = [...map.getContainer().querySelectorAll(".leaflet-control"), ...this.covers]
      .map((el) => el.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0)
      .map((r) => ({ x1: r.left - frame.left, y1: r.top - frame.top, x2: r.right - frame.left, y2: r.bottom - frame.top }));
    const nodes = [];
    let hidden = 0;
    const clear = (box) => !placed.some((b) => b.x1 < box.x2 && box.x1 < b.x2 && b.y1 < box.y2 && box.y1 < b.y2);
    for (const item of candidates) {
      const w = this.width((MARK[item.kind] || "") + item.text, item.kind !== "place" && item.kind !== "grid");
      const h = FONT_PX + 6;
      let spot = null;
      let onScreen = false;
      // the first free spot among the label's candidates (a line's name can sit at any of its vertices)
      for (const latlng of item.latlngs || [item.latlng]) {
        const p = map.latLngToContainerPoint(latlng);
        if (p.x < 0 || p.y < 0 || p.x > size.x || p.y > size.y) continue; // off screen
        onScreen = true;
        const x = item.anchor === "right" ? p.x - 6 : p.x - w / 2; // "right": its mark on the point, the name after
        const y = p.y - h / 2;
        if (x < 0 || y < 0 || x + w > size.x || y + h > size.y) continue; // cut by the map's edge
        const box = { x1: x - PAD, y1: y - PAD, x2: x + w + PAD, y2: y + h + PAD };
        if (clear(box)) {
          spot = { x, y, box };
          break;
        }
      }
      if (!spot) {
        if (onScreen) hidden += 1;
        continue;
      }
      placed.push(spot.box);
      const node = document.createElement("div");
      node.className = `map-label label-${item.kind}`;
      node.textContent = item.text;
      node.dataset.priority = String(item.priority);
      L.DomUtil.setPosition(node, map.containerPointToLayerPoint([spot.x, spot.y]));
      nodes.push(node);
    }
    this.pane.replaceChildren(...nodes);
    this.hidden = hidden;
    this.pane.dataset.hidden = String(hidden); // how many gave way, for tests and the curious
    this.pane.dataset.shown = String(nodes.length);
  }
}
