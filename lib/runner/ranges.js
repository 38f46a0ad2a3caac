'use strict';
// Inclusive slot ranges `[first, last]`, kept sorted and merged. Checkpoints are sets of
// slots; these keep them small however the firehose's threads finish.

/** Sorted, merged copy; touching ranges ([1, 4] and [5, 9]) become one. */
function normalize(ranges) {
  const sorted = ranges.filter(([a, b]) => a <= b).map(([a, b]) => [a, b]).sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function union(...lists) {
  return normalize(lists.flat());
}

function intersect(ranges, [first, last]) {
  return normalize(ranges).map(([a, b]) => [Math.max(a, first), Math.min(b, last)]).filter(([a, b]) => a <= b);
}

/** The slots of `[first, last]` not in `ranges`. */
function subtract([first, last], ranges) {
  const out = [];
  let next = first;
  for (const [a, b] of intersect(ranges, [first, last])) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= last) out.push([next, last]);
  return out;
}

function contains(ranges, slot) {
  return ranges.some(([a, b]) => slot >= a && slot <= b);
}

function size(ranges) {
  return ranges.reduce((sum, [a, b]) => sum + (b - a + 1), 0);
}

module.exports = { normalize, union, intersect, subtract, contains, size };
