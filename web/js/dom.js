// The one way the page builds DOM. Device-provided strings (sysName,
// sysDescr, ifAlias, LLDP names, ids) reach the document only as text
// nodes (textContent) or through setAttribute on the attributes allowed
// below; nothing here parses HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Attributes that may be set; event handlers and anything that loads or
// runs code are not in the list.
const SAFE_ATTRS = new Set([
  'id', 'class', 'title', 'type', 'value', 'placeholder', 'name', 'for',
  'min', 'max', 'step', 'selected', 'checked', 'disabled', 'hidden',
  'role', 'tabindex', 'autocomplete', 'download', 'href', 'colspan',
  'aria-label', 'aria-live',
]);
const SVG_ATTRS = new Set([
  'viewBox', 'width', 'height', 'x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy',
  'r', 'rx', 'ry', 'd', 'points', 'fill', 'stroke', 'stroke-width', 'stroke-dasharray',
  'opacity', 'font-size', 'font-family', 'text-anchor', 'dominant-baseline',
  'class', 'xmlns', 'preserveAspectRatio', 'transform',
]);

function setAttrs(node, attrs, allowed) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('data-')) {
      node.setAttribute(k, String(v));
      continue;
    }
    if (!allowed.has(k)) throw new Error('attribute not allowed: ' + k);
    if (k === 'href' && !safeHref(String(v))) throw new Error('href not allowed');
    node.setAttribute(k, v === true ? '' : String(v));
  }
}

// Links point at this server (a path) or at a blob the page made.
function safeHref(v) {
  return (v.startsWith('/') && !v.startsWith('//')) || v.startsWith('blob:');
}

// el('td', {class: 'x'}, 'text') or el('tr', {}, [child, child]).
export function el(tag, attrs, content) {
  const node = document.createElement(tag);
  setAttrs(node, attrs, SAFE_ATTRS);
  append(node, content);
  return node;
}

// The same for SVG elements (charts, the SVG export).
export function svgEl(tag, attrs, content) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs, SVG_ATTRS);
  append(node, content);
  return node;
}

function append(node, content) {
  if (content === undefined || content === null) return;
  if (Array.isArray(content)) {
    for (const c of content) append(node, c);
  } else if (content instanceof Node) {
    node.appendChild(content);
  } else {
    node.appendChild(document.createTextNode(String(content)));
  }
}

// Replaces the children of `node` with `content`.
export function fill(node, content) {
  node.replaceChildren();
  append(node, content);
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

export function show(node, visible) {
  node.hidden = !visible;
}

// Downloads a Blob under `name` through a temporary link.
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
