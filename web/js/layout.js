// Positions for large maps, computed directly: devices on concentric rings,
// the most connected ones in the middle (what cytoscape's `concentric` does,
// without measuring labels, in linear time after one sort). Pure.

// nodes: [{id, degree}] → Map id → {x, y}
export function ringPositions(nodes, spacing) {
  const gap = spacing || 60;
  const sorted = nodes.slice().sort((a, b) => b.degree - a.degree || (a.id < b.id ? -1 : 1));
  const pos = new Map();
  let ring = 0;
  let i = 0;
  while (i < sorted.length) {
    const radius = ring * gap * 1.6;
    const capacity = ring === 0 ? 1 : Math.max(6, Math.floor((2 * Math.PI * radius) / gap));
    const count = Math.min(capacity, sorted.length - i);
    for (let k = 0; k < count; k++, i++) {
      const a = (2 * Math.PI * k) / count + ring * 0.37;
      pos.set(sorted[i].id, { x: radius * Math.cos(a), y: radius * Math.sin(a) });
    }
    ring++;
  }
  return pos;
}
