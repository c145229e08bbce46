// The map's cytoscape stylesheet: devices by kind and reachability, links
// coloured half by half by the bands the server decided, link labels and
// the classes labels.js hides them with, stubs of unresolved neighbours,
// the wall's dark colours. Pure: options in, stylesheet out.
import { STATE_COLOURS } from './elements.js';
import { NODE_FONT, NODE_LABEL_MAX_W } from './labels.js';

// Link labels are drawn from the zoom on where LINK_FONT × zoom ≥ LINK_MIN_FONT.
export const LINK_FONT = 8;
export const LINK_MIN_FONT = 5;

// wall: the NOC wall's colours; edgeLabels: labels drawn (off on a
// zoomed-out large map); largeMap: more than the page's large-map size.
export function cyStyle({ wall: WALL, edgeLabels, largeMap }) {
  // One font size on `/` and `/wall`: the layout keeps room for the labels
  // at this size, and the wall shows them larger by its zoom.
  const font = NODE_FONT;
  return [
    { selector: 'node', style: {
      label: edgeLabels ? 'data(label)' : '', 'background-color': 'data(colour)', 'text-wrap': 'wrap',
      'text-max-width': NODE_LABEL_MAX_W, 'text-overflow-wrap': 'anywhere',
      'text-valign': 'bottom', 'text-margin-y': 3, 'font-size': font, width: 26, height: 26,
      color: WALL ? '#e8eaed' : '#1b1f24', 'min-zoomed-font-size': 6,
      // Readable where a link passes under the label.
      'text-background-color': WALL ? '#10141a' : '#ffffff', 'text-background-opacity': 0.75,
      'text-background-padding': 1,
      'border-width': 1, 'border-color': '#444c56',
    } },
    { selector: 'node[kind="router"]', style: { shape: 'ellipse' } },
    { selector: 'node[kind="switch"]', style: { shape: 'round-rectangle', width: 34, height: 20 } },
    { selector: 'node[kind="host"]', style: { shape: 'rectangle', width: 18, height: 18 } },
    // Not 'diamond': cytoscape 3.34.4 does not register taps at a diamond's centre.
    { selector: 'node[kind="unmanaged"]', style: { shape: 'hexagon', 'border-width': 2, 'border-color': '#9aa0a6' } },
    { selector: 'node[kind="poller"]', style: { shape: 'star', width: 30, height: 30 } },
    // The vitals ring (CPU, disk, temperature at their limits: amber; a
    // failed sensor: red), outside the reachability colour.
    { selector: 'node[vitals="warn"]', style: { 'underlay-color': '#f0a000', 'underlay-opacity': 0.55, 'underlay-padding': 6, 'underlay-shape': 'ellipse' } },
    { selector: 'node[vitals="failed"]', style: { 'underlay-color': '#d62828', 'underlay-opacity': 0.6, 'underlay-padding': 7, 'underlay-shape': 'ellipse' } },
    { selector: 'node[stale="yes"]', style: { 'border-style': 'dashed', 'border-width': 2 } },
    // An unresolved neighbour (stubs.js): grey, dashed, not a device.
    { selector: 'node[kind="stub"]', style: {
      shape: 'round-rectangle', width: 24, height: 14, 'background-color': WALL ? '#2a313a' : '#eceef1',
      'border-style': 'dashed', 'border-width': 1.5, 'border-color': '#8a8f98', color: WALL ? '#9aa0a6' : '#6b7280',
    } },
    // Sites (sites.js): a box around a site's devices (a plain node as
    // large as sites.js makes it, under every other element), or its
    // summary.
    { selector: 'node[kind="site-box"]', style: {
      label: 'data(label)', 'text-valign': 'top', 'text-halign': 'center', 'font-size': 14, 'font-weight': 'bold',
      'background-color': WALL ? '#1a2029' : '#f3f5f8', 'background-opacity': 0.6, 'border-style': 'dashed',
      'border-color': '#8a8f98', shape: 'round-rectangle', width: 'data(w)', height: 'data(h)', padding: 0,
      'z-compound-depth': 'bottom', 'min-zoomed-font-size': 0,
    } },
    { selector: 'node[kind="site-summary"]', style: {
      label: 'data(label)', shape: 'round-rectangle', width: 60, height: 36, 'font-size': 14, 'border-width': 3,
      'border-color': WALL ? '#e8eaed' : '#1b1f24', 'min-zoomed-font-size': 0, 'text-max-width': 170,
    } },
    { selector: '.site-collapsed, .site-expanded', style: { display: 'none' } },
    // What changed since the baseline (changes.js).
    { selector: 'node.chg-new', style: { 'border-width': 4, 'border-color': '#1f9d3a', 'border-style': 'double' } },
    { selector: 'node[kind="ghost"]', style: {
      'background-opacity': 0, 'border-style': 'dashed', 'border-width': 2, 'border-color': STATE_COLOURS.down,
      color: STATE_COLOURS.down, label: 'data(label)', opacity: 0.8,
    } },
    { selector: 'node.match', style: { 'border-width': 4, 'border-color': '#ffb000' } },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#3b7dd8' } },
    // The selected device's path from the poller (device_path.js).
    { selector: 'node.on-path', style: { 'border-width': 4, 'border-color': '#8e44ad' } },
    { selector: '.faded', style: { opacity: 0.2 } },
    { selector: '.hidden', style: { display: 'none' } },
    { selector: 'edge', style: {
      // bezier fans parallel links apart; haystack (one straight line,
      // cheap) only on a zoomed-out large map, which draws no labels.
      width: 'data(width)', 'curve-style': largeMap && !edgeLabels ? 'haystack' : 'bezier',
      ...(largeMap && !edgeLabels
        // zoomed-out large map: one colour (the busier direction), cheap to draw
        ? { 'line-fill': 'solid', 'line-color': 'data(maxColour)' }
        : { 'line-fill': 'linear-gradient', 'line-gradient-stop-colors': 'data(grad)', 'line-gradient-stop-positions': '0 50 50 100' }),
    } },
    // Link labels: each shown only where it has room (labels.js hides the
    // others with these classes); all of a link's on hover.
    ...(edgeLabels ? [{ selector: 'edge', style: {
      'source-label': 'data(abLabel)', 'target-label': 'data(baLabel)',
      'source-text-offset': 36, 'target-text-offset': 36, label: 'data(label)',
      'font-size': LINK_FONT, color: WALL ? '#c9d1d9' : '#4b5563', 'min-zoomed-font-size': LINK_MIN_FONT,
      'text-background-color': WALL ? '#10141a' : '#ffffff', 'text-background-opacity': 0.7,
    } },
    { selector: 'edge.no-ab', style: { 'source-label': '' } },
    { selector: 'edge.no-ba', style: { 'target-label': '' } },
    { selector: 'edge.no-mid', style: { label: '' } },
    { selector: 'edge.hover', style: {
      'source-label': 'data(abLabel)', 'target-label': 'data(baLabel)', label: 'data(label)', 'z-index': 20,
      'text-background-opacity': 1,
    } }] : []),
    { selector: 'edge[state="down"]', style: {
      'line-fill': 'solid', 'line-color': STATE_COLOURS.down, 'line-style': 'dashed', 'line-dash-pattern': [8, 5],
    } },
    { selector: 'edge[state="degraded"]', style: { 'line-fill': 'solid', 'line-color': STATE_COLOURS.degraded } },
    { selector: 'edge[state="stale"]', style: {
      'line-fill': 'solid', 'line-color': STATE_COLOURS.stale, 'line-style': 'dotted', opacity: 0.6,
    } },
    { selector: 'edge[?stub]', style: {
      'line-fill': 'solid', 'line-color': '#9aa0a6', 'line-style': 'dashed', width: 1, 'curve-style': 'straight',
    } },
    { selector: 'edge[?meta]', style: {
      'line-fill': 'solid', 'line-color': '#6b7280', width: 'data(width)', 'curve-style': 'straight', label: 'data(label)',
      'font-size': 12, 'min-zoomed-font-size': 0,
    } },
    { selector: 'edge.chg-new', style: { 'line-fill': 'solid', 'line-color': '#1f9d3a', 'underlay-color': '#1f9d3a', 'underlay-opacity': 0.3, 'underlay-padding': 5 } },
    { selector: 'edge[?ghost]', style: {
      'line-fill': 'solid', 'line-color': STATE_COLOURS.down, 'line-style': 'dashed', 'line-dash-pattern': [6, 6],
      width: 2, opacity: 0.7, 'curve-style': 'straight',
    } },
    { selector: 'edge[members > 1]', style: { 'line-outline-width': 2, 'line-outline-color': '#1b1f24' } },
    { selector: 'edge:selected', style: { 'underlay-color': '#3b7dd8', 'underlay-opacity': 0.3, 'underlay-padding': 4 } },
    // A link on the selected device's path: an underlay, so its own state
    // colour (down, degraded) still shows.
    { selector: 'edge.on-path', style: { 'underlay-color': '#8e44ad', 'underlay-opacity': 0.45, 'underlay-padding': 5 } },
  ];
}
