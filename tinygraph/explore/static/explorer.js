/* tinygraph explorer: the page's script. No library, nothing fetched.
 *
 * It reads the graph from <script type="application/json" id="tinygraph-graph"> (schema in
 * docs/exploring.md), lays out what is visible (boxes nest: an opened composite or fold is a
 * cluster laid out on its own, then placed as one block in its parent's layered layout), and
 * steps through the backward pass recorded by the engine. Every number shown comes from the
 * JSON: the script adds nothing up. All text reaches the page through textContent.
 *
 * API (window.tinygraphExplorer): visible(), open(id), close(id), step(), back(), reset(),
 * highlight(id), select(id), search(text), mode("values" | "grads").
 */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var T0 = performance.now();
  var G = JSON.parse(document.getElementById("tinygraph-graph").textContent);
  var T1 = performance.now();
  var VIEW_LIMIT = 600; // boxes on screen before the page warns that it may slow down
  var LABEL_EDGES = 60; // edge labels are drawn when fewer edges than this are shown

  // ------------------------------------------------------------------ the graph
  var byId = new Map();
  var order = new Map(); // id -> position in G.nodes (the recorded topological order)
  var children = new Map(); // parent id ("" for the top) -> child ids, in order
  G.nodes.forEach(function (n, k) {
    byId.set(n.id, n);
    order.set(n.id, k);
  });
  G.nodes.forEach(function (n) {
    var p = n.parent === null ? "" : n.parent;
    if (!children.has(p)) children.set(p, []);
    children.get(p).push(n.id);
  });
  function isBox(n) {
    return n.kind === "composite" || n.kind === "repeat" || n.kind === "module";
  }
  var ancestorCache = new Map();
  function chainOf(id) {
    // the boxes around `id`, outermost first (remembered: the tree never changes)
    var a = ancestorCache.get(id);
    if (a === undefined) {
      var n = byId.get(id);
      a = n.parent === null ? [] : chainOf(n.parent).concat([n.parent]);
      ancestorCache.set(id, a);
    }
    return a;
  }
  // Each recorded edge, once: the box whose children it joins, and those two children.
  var levelEdges = new Map(); // group id ("" top) -> [[a, b]]
  function addLevelEdge(g, a, b) {
    var m = levelEdges.get(g);
    if (!m) levelEdges.set(g, (m = new Map()));
    m.set(a + "\u0000" + b, [a, b]);
  }
  G.edges.forEach(function (e) {
    var ps = byId.get(e.src).parent, pd = byId.get(e.dst).parent;
    if (ps === pd) return addLevelEdge(ps === null ? "" : ps, e.src, e.dst); // the common case
    var cs = chainOf(e.src).concat([e.src]);
    var cd = chainOf(e.dst).concat([e.dst]);
    var k = 0;
    while (k < cs.length && k < cd.length && cs[k] === cd[k]) k++;
    if (k >= cs.length || k >= cd.length) return;
    addLevelEdge(k === 0 ? "" : cs[k - 1], cs[k], cd[k]);
  });
  var edgeById = new Map(G.edges.map(function (e) { return [e.id, e]; }));

  // A 0-d float array travels as a bare number (or "nan", "inf", "-inf"), of the dtype of the
  // node it belongs to or reaches: expanded here into the object form the rest reads.
  function g4(v) {
    // Python's f"{v:.4g}": 4 significant digits, trailing zeros dropped, exponent from 1e-5 / 1e4
    if (v === 0) return Object.is(v, -0) ? "-0" : "0";
    var e = v.toExponential(3), at = e.indexOf("e"), exp = parseInt(e.slice(at + 1), 10);
    if (exp < -4 || exp >= 4) {
      var m = e.slice(0, at).replace(/\.?0+$/, "");
      var a = Math.abs(exp);
      return m + "e" + (exp < 0 ? "-" : "+") + (a < 10 ? "0" : "") + a;
    }
    var f = v.toFixed(Math.max(0, 3 - exp));
    return f.indexOf(".") >= 0 ? f.replace(/\.?0+$/, "") : f;
  }
  // The object form of a bare number: {shape: [], dtype, text, values: [v]}, its text and values
  // worked out when read (most of 100,000 are never shown).
  function Scalar(v, dtype) {
    this.v = v;
    this.dtype = dtype;
  }
  Object.defineProperties(Scalar.prototype, {
    shape: { get: function () { return []; } },
    text: { get: function () { return typeof this.v === "string" ? this.v : g4(this.v); } },
    values: { get: function () { return [this.v]; } },
  });
  function expand(enc, dtype) {
    if (enc === null || enc === undefined || typeof enc === "object") return enc;
    return new Scalar(enc, dtype);
  }
  G.nodes.forEach(function (n) {
    if (n.value !== undefined && typeof n.value !== "object") n.value = new Scalar(n.value, n.dtype);
  });
  G.steps.forEach(function (s) {
    if (typeof s.grad !== "object") s.grad = new Scalar(s.grad, byId.get(s.id).dtype);
    s.contributions.forEach(function (c) {
      if (typeof c.grad === "object" && (c.sum === undefined || c.sum === null || typeof c.sum === "object")) return;
      var dt = byId.get(c.to).dtype;
      c.grad = expand(c.grad, dt);
      c.sum = expand(c.sum, dt);
    });
  });

  // ------------------------------------------------------------------ the backward steps
  var stepOf = new Map(); // node id -> index of its step
  var contribOf = new Map(); // edge id -> [step index, contribution]
  var received = new Map(); // node id -> [[step index, encoded running value, k, n]]
  G.steps.forEach(function (s, k) {
    stepOf.set(s.id, k);
    s.contributions.forEach(function (c) {
      contribOf.set(c.edge, [k, c]);
      if (!received.has(c.to)) received.set(c.to, []);
      received.get(c.to).push([k, c.sum || c.grad, c.k || 1, c.n || 1]);
    });
  });

  // ------------------------------------------------------------------ state
  var S = {
    opened: new Set(),
    mode: "values",
    stepping: false,
    cur: 0, // steps taken
    selected: null,
    chain: null, // id of the highlighted parameter
    layout: null,
    view: { tx: 20, ty: 20, s: 1 },
    matches: [],
    matchAt: -1,
    playing: null,
  };

  // What a node shows as its gradient now: [encoded, note] or null.
  function gradNow(id) {
    var k = stepOf.get(id);
    if (!S.stepping) return k === undefined ? null : [G.steps[k].grad, ""];
    if (k !== undefined && k < S.cur) return [G.steps[k].grad, ""];
    var r = received.get(id);
    if (!r) return null;
    var last = null;
    for (var i = 0; i < r.length && r[i][0] < S.cur; i++) last = r[i];
    if (last === null) return null;
    return [last[1], "so far: " + last[2] + " of " + last[3] + " contributions"];
  }
  function boxGradNow(n) {
    if (!n.outputs || !n.outputs.length) return null;
    return gradNow(n.outputs[n.outputs.length - 1]);
  }

  // ------------------------------------------------------------------ visibility
  function visRep(id) {
    // what a recorded node or box is drawn as: itself, or the outermost closed box around it
    var a = chainOf(id);
    for (var i = 0; i < a.length; i++) if (!S.opened.has(a[i])) return a[i];
    return id;
  }
  function visible() {
    var out = [];
    function walk(g) {
      (children.get(g) || []).forEach(function (id) {
        if (isBox(byId.get(id)) && S.opened.has(id)) walk(id);
        else out.push(id);
      });
    }
    walk("");
    out.sort(function (a, b) { return order.get(a) - order.get(b); });
    return out;
  }

  // ------------------------------------------------------------------ labels and sizes
  var CH = 7.2; // width of a character at 12px monospace
  var LINE = 15;
  function firstLine(text, max) {
    var t = String(text || "").split("\n")[0];
    return t.length > max ? t.slice(0, max - 1) + "\u2026" : t;
  }
  function boxLines(n) {
    var head = n.name;
    var sub;
    if (n.kind === "repeat") sub = "fold: " + n.count + " \u00d7, " + n.size + " nodes";
    else if (n.kind === "composite") sub = "composite \u00b7 " + n.size + " nodes";
    else if (n.kind === "module") sub = "module \u00b7 " + n.size + " nodes";
    else if (n.op) sub = n.op + "  " + shapeText(n.shape);
    else sub = n.kind + "  " + shapeText(n.shape);
    if (n.position) head = "#" + n.position + " " + head;
    var third;
    if (S.mode === "grads") {
      var g = isBox(n) ? boxGradNow(n) : gradNow(n.id);
      third = g ? "\u2207 " + firstLine(g[0].text, 30) : "\u2207 \u2014";
    } else if (isBox(n)) {
      third = n.outputs && n.outputs.length ? "= " + firstLine(byId.get(n.outputs[n.outputs.length - 1]).value.text, 30) : "";
    } else {
      third = "= " + firstLine(n.value.text, 30);
    }
    return [firstLine(head, 30), firstLine(sub, 30), third];
  }
  function shapeText(shape) {
    return "(" + shape.join(", ") + (shape.length === 1 ? ",)" : ")");
  }
  function boxSize(n) {
    var lines = boxLines(n);
    var w = 0;
    lines.forEach(function (l) { w = Math.max(w, l.length); });
    return { w: Math.max(70, w * CH + 16), h: lines.length * LINE + 10, lines: lines };
  }

  // ------------------------------------------------------------------ layout
  var PAD = 14, HEAD = 20, GAPX = 22, GAPY = 36;
  function layoutGroup(g) {
    var ids = children.get(g) || [];
    var info = new Map();
    ids.forEach(function (id) {
      var n = byId.get(id);
      if (isBox(n) && S.opened.has(id)) {
        var sub = layoutGroup(id);
        info.set(id, { w: sub.w + 2 * PAD, h: sub.h + PAD + HEAD, sub: sub, cluster: true });
      } else {
        info.set(id, boxSize(n));
      }
    });
    var succ = new Map(), pred = new Map();
    ids.forEach(function (id) { succ.set(id, []); pred.set(id, []); });
    var le = levelEdges.get(g);
    if (le) le.forEach(function (ab) { succ.get(ab[0]).push(ab[1]); pred.get(ab[1]).push(ab[0]); });
    // ranks: longest path from the sources (Kahn, earliest recorded first), then leaves just
    // above their first consumer
    var indeg = new Map(), rank = new Map(), topo = [];
    ids.forEach(function (id) { indeg.set(id, pred.get(id).length); rank.set(id, 0); });
    var ready = ids.filter(function (id) { return indeg.get(id) === 0; });
    var head = 0;
    while (head < ready.length) {
      var u = ready[head++];
      topo.push(u);
      succ.get(u).forEach(function (v) {
        rank.set(v, Math.max(rank.get(v), rank.get(u) + 1));
        indeg.set(v, indeg.get(v) - 1);
        if (indeg.get(v) === 0) ready.push(v);
      });
    }
    if (topo.length < ids.length) ids.forEach(function (id) { if (indeg.get(id) > 0) topo.push(id); });
    for (var t = topo.length - 1; t >= 0; t--) {
      var id0 = topo[t];
      if (pred.get(id0).length === 0 && succ.get(id0).length > 0) {
        var m = Infinity;
        succ.get(id0).forEach(function (v) { m = Math.min(m, rank.get(v)); });
        rank.set(id0, Math.max(0, m - 1));
      }
    }
    var ranks = [];
    ids.forEach(function (id) {
      var r = rank.get(id);
      while (ranks.length <= r) ranks.push([]);
      ranks[r].push(id);
    });
    ranks = ranks.filter(function (r) { return r.length; });
    var pos = new Map();
    function index() { ranks.forEach(function (r) { r.forEach(function (id, k) { pos.set(id, k); }); }); }
    index();
    function bary(id, nb) {
      var l = nb.get(id);
      if (!l.length) return pos.get(id);
      var s = 0;
      l.forEach(function (v) { s += pos.get(v); });
      return s / l.length;
    }
    for (var sweep = 0; sweep < 4; sweep++) {
      var nb = sweep % 2 === 0 ? pred : succ;
      var rs = sweep % 2 === 0 ? ranks : ranks.slice().reverse();
      rs.forEach(function (r) {
        var key = new Map();
        r.forEach(function (id) { key.set(id, bary(id, nb)); });
        r.sort(function (a, b) { return key.get(a) - key.get(b) || order.get(a) - order.get(b); });
        r.forEach(function (id, k) { pos.set(id, k); });
      });
    }
    // in each rank what is computed comes first, the leaves that feed the next rank after it:
    // chains then run straight down the left, with their parameters beside them
    ranks.forEach(function (r) {
      var inner = r.filter(function (id) { return pred.get(id).length > 0; });
      var leaves = r.filter(function (id) { return pred.get(id).length === 0; });
      if (inner.length && leaves.length) r.splice.apply(r, [0, r.length].concat(inner, leaves));
    });
    // coordinates: pack each rank, then pull each box towards the centre of its neighbours
    var x = new Map(), y = new Map();
    var top = 0;
    ranks.forEach(function (r) {
      var h = 0, left = 0;
      r.forEach(function (id) {
        var b = info.get(id);
        x.set(id, left);
        left += b.w + GAPX;
        h = Math.max(h, b.h);
        y.set(id, top);
      });
      r.forEach(function (id) { y.set(id, top + (h - info.get(id).h) / 2); });
      top += h + GAPY;
    });
    function centre(id) { return x.get(id) + info.get(id).w / 2; }
    for (var pass = 0; pass < 4; pass++) {
      var nb2 = pass % 2 === 0 ? pred : succ;
      var rs2 = pass % 2 === 0 ? ranks : ranks.slice().reverse();
      rs2.forEach(function (r) {
        var want = r.map(function (id) {
          // going down, a box follows the boxes it reads (the leaves among them only when it
          // reads nothing else); going up, only a leaf moves, next to what reads it
          var l = nb2.get(id);
          if (pass % 2 === 0) {
            var inner = l.filter(function (v) { return pred.get(v).length > 0; });
            if (inner.length) l = inner;
          } else if (pred.get(id).length > 0) {
            l = [];
          }
          if (!l.length) return x.get(id);
          var s = 0;
          l.forEach(function (v) { s += centre(v); });
          return s / l.length - info.get(id).w / 2;
        });
        // place left to right at the wanted x, never overlapping; then shift back left
        var right = -Infinity;
        r.forEach(function (id, k) {
          var v = Math.max(want[k], right);
          x.set(id, v);
          right = v + info.get(id).w + GAPX;
        });
        var lim = Infinity;
        for (var k = r.length - 1; k >= 0; k--) {
          var id2 = r[k];
          var v2 = Math.min(x.get(id2), lim - info.get(id2).w - GAPX);
          v2 = Math.max(v2, Math.min(want[k], x.get(id2)));
          x.set(id2, Math.min(x.get(id2), v2));
          lim = x.get(id2);
        }
      });
    }
    var minx = Infinity, maxx = -Infinity, maxy = 0;
    ids.forEach(function (id) {
      minx = Math.min(minx, x.get(id));
      maxx = Math.max(maxx, x.get(id) + info.get(id).w);
      maxy = Math.max(maxy, y.get(id) + info.get(id).h);
    });
    if (!ids.length) { minx = 0; maxx = 60; }
    var placed = ids.map(function (id) {
      var b = info.get(id);
      return { id: id, x: x.get(id) - minx, y: y.get(id), w: b.w, h: b.h, box: b };
    });
    return { w: maxx - minx, h: maxy, items: placed };
  }

  function layoutAll() {
    var top = layoutGroup("");
    var rects = new Map(); // id -> {x, y, w, h, cluster, lines}
    var stack = [[top, 0, 0]];
    while (stack.length) {
      var cur = stack.pop();
      cur[0].items.forEach(function (it) {
        var ax = cur[1] + it.x, ay = cur[2] + it.y;
        rects.set(it.id, { x: ax, y: ay, w: it.w, h: it.h, cluster: !!it.box.cluster, lines: it.box.lines });
        if (it.box.cluster) stack.push([it.box.sub, ax + PAD, ay + HEAD]);
      });
    }
    return { w: top.w, h: top.h, rects: rects };
  }

  // ------------------------------------------------------------------ drawing
  var svg = document.getElementById("tg-svg");
  var scene = document.getElementById("tg-scene");
  var panel = document.getElementById("tg-panel");
  var notice = document.getElementById("tg-notice");
  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, cls) {
    var t = el("text", { x: x, y: y, class: cls || "" }, parent);
    t.textContent = s;
    return t;
  }
  function applyView() {
    scene.setAttribute("transform", "translate(" + S.view.tx + "," + S.view.ty + ") scale(" + S.view.s + ")");
  }

  function highlightSets() {
    var hlEdges = new Set(), hlNodes = new Set();
    if (S.chain && G.chains[S.chain]) {
      G.chains[S.chain].edges.forEach(function (e) { hlEdges.add(e); });
      G.chains[S.chain].nodes.forEach(function (n) { hlNodes.add(visRep(n)); });
    }
    var flow = new Set(), current = null;
    if (S.stepping && S.cur > 0) {
      var s = G.steps[S.cur - 1];
      current = visRep(s.id);
      s.contributions.forEach(function (c) { flow.add(c.edge); });
    }
    return { hlEdges: hlEdges, hlNodes: hlNodes, flow: flow, current: current };
  }

  function render() {
    var L = (S.layout = layoutAll());
    while (scene.firstChild) scene.removeChild(scene.firstChild);
    var H = highlightSets();
    var gClusters = el("g", {}, scene), gEdges = el("g", {}, scene), gBoxes = el("g", {}, scene);
    // clusters, outermost first
    var vis = [];
    L.rects.forEach(function (r, id) {
      if (r.cluster) {
        var n = byId.get(id);
        var g = el("g", { class: "tg-cluster tg-" + n.kind, "data-id": id }, gClusters);
        el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, rx: 6 }, g);
        var title = (n.position ? "#" + n.position + " " : "") + n.name + "   \u25be close";
        text(g, r.x + 8, r.y + 14, title, "tg-cluster-title");
        g.addEventListener("click", function (ev) {
          if (ev.target.tagName === "text") { close(id); ev.stopPropagation(); }
        });
      } else {
        vis.push(id);
      }
    });
    // edges between what is drawn
    var drawn = new Map();
    G.edges.forEach(function (e) {
      var a = visRep(e.src), b = visRep(e.dst);
      if (a === b) return;
      var k = a + "\u0000" + b;
      var d = drawn.get(k);
      if (!d) drawn.set(k, (d = { a: a, b: b, edges: [] }));
      d.edges.push(e.id);
    });
    var labelEdges = drawn.size < LABEL_EDGES;
    drawn.forEach(function (d) {
      var ra = L.rects.get(d.a), rb = L.rects.get(d.b);
      if (!ra || !rb) return;
      var x1 = ra.x + ra.w / 2, y1 = ra.y + ra.h, x2 = rb.x + rb.w / 2, y2 = rb.y;
      var dy = Math.max(20, Math.abs(y2 - y1) / 2);
      var cls = "tg-edge";
      if (d.edges.some(function (e) { return H.hlEdges.has(e); })) cls += " tg-hl";
      if (d.edges.some(function (e) { return H.flow.has(e); })) cls += " tg-flow";
      if (!d.edges.some(function (e) { return edgeById.get(e).grad; })) cls += " tg-nograd";
      var path = el("path", {
        d: "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + dy) + " " + x2 + "," + (y2 - dy) + " " + x2 + "," + y2,
        class: cls,
        "data-edges": d.edges.join(" "),
      }, gEdges);
      path.appendChild(document.createElementNS(SVGNS, "title")).textContent = edgeTitle(d);
      if (labelEdges && d.edges.length === 1) {
        var t = edgeText(d.edges[0]);
        if (t) text(gEdges, x1 + 4, y1 + 12, t, "tg-edge-label" + (cls.indexOf("tg-flow") >= 0 ? " tg-flow-label" : ""));
      }
    });
    vis.forEach(function (id) {
      var r = L.rects.get(id), n = byId.get(id);
      var cls = "tg-box tg-" + n.kind;
      if (id === S.selected) cls += " tg-selected";
      if (H.hlNodes.has(id)) cls += " tg-onpath";
      if (id === H.current) cls += " tg-current";
      var g = el("g", { class: cls, "data-id": id }, gBoxes);
      el("rect", { x: r.x, y: r.y, width: r.w, height: r.h, rx: n.kind === "op" ? 3 : 8 }, g);
      if (isBox(n)) el("rect", { x: r.x + 3, y: r.y + 3, width: r.w - 6, height: r.h - 6, rx: 6, class: "tg-inner" }, g);
      r.lines.forEach(function (line, k) {
        text(g, r.x + 8, r.y + 16 + k * LINE, line, k === 0 ? "tg-name" : k === 2 ? "tg-val" : "tg-sub");
      });
      g.addEventListener("click", function (ev) { ev.stopPropagation(); clickBox(id); });
    });
    notice.textContent = vis.length > VIEW_LIMIT ? vis.length + " boxes shown: close some to keep the page quick" : "";
    applyView();
    updateToolbar();
  }
  function edgeText(eid) {
    var e = edgeById.get(eid);
    if (S.mode === "grads") {
      var c = contribOf.get(eid);
      if (!c || (S.stepping && c[0] >= S.cur)) return "";
      return firstLine(c[1].grad.text, 24);
    }
    return firstLine(byId.get(e.src).value.text, 24);
  }
  function edgeTitle(d) {
    var e = edgeById.get(d.edges[0]);
    var s = byId.get(e.src).name + " \u2192 " + byId.get(e.dst).name;
    if (d.edges.length > 1) s += " (" + d.edges.length + " edges)";
    else if (e.index !== null) s += " (input " + e.index + ")";
    return s;
  }

  // ------------------------------------------------------------------ interaction
  function clickBox(id) {
    var n = byId.get(id);
    S.selected = id;
    if (isBox(n)) {
      open(id);
    } else if (n.kind === "parameter") {
      highlight(id);
    } else {
      render();
    }
    showPanel(id);
  }
  function open(id) {
    var n = byId.get(id);
    if (!n || !isBox(n)) return visible();
    chainOf(id).forEach(function (a) { S.opened.add(a); });
    S.opened.add(id);
    render();
    return visible();
  }
  function close(id) {
    var n = byId.get(id);
    if (!n || !isBox(n)) return visible();
    S.opened.delete(id);
    render();
    return visible();
  }
  function highlight(id) {
    S.chain = id && G.chains[id] ? id : null;
    render();
    if (id && byId.get(id)) { S.selected = id; showPanel(id); }
    return S.chain ? G.chains[S.chain].edges.slice() : [];
  }
  function decode(v) {
    if (v === "nan") return NaN;
    if (v === "inf") return Infinity;
    if (v === "-inf") return -Infinity;
    return v;
  }
  function plain(enc) {
    if (enc.values) return enc.values.map(decode);
    var s = { shape: enc.shape, dtype: enc.dtype };
    for (var k in enc.stats) s[k] = enc.stats[k];
    return s;
  }
  function step() {
    stopPlay(false);
    if (!S.stepping) { S.stepping = true; S.cur = 0; S.mode = "grads"; }
    if (S.cur >= G.steps.length) { render(); return null; }
    S.cur += 1;
    var s = G.steps[S.cur - 1];
    render();
    follow(s.id);
    showPanel(s.id);
    return { id: s.id, grad: plain(s.grad) };
  }
  function back() {
    stopPlay(false);
    if (!S.stepping || S.cur === 0) return null;
    S.cur -= 1;
    render();
    if (S.cur > 0) { showPanel(G.steps[S.cur - 1].id); return { id: G.steps[S.cur - 1].id, grad: plain(G.steps[S.cur - 1].grad) }; }
    return null;
  }
  function reset() {
    stopPlay(false);
    S.stepping = true;
    S.cur = 0;
    S.mode = "grads";
    render();
    return null;
  }
  function play() {
    if (S.playing) { stopPlay(true); return; }
    if (!S.stepping || S.cur >= G.steps.length) reset();
    var tick = function () {
      if (S.cur >= G.steps.length) { stopPlay(true); return; }
      S.cur += 1;
      render();
      follow(G.steps[S.cur - 1].id);
      showPanel(G.steps[S.cur - 1].id);
    };
    S.playing = setInterval(tick, 700);
    updateToolbar();
  }
  function stopPlay(update) {
    if (S.playing) { clearInterval(S.playing); S.playing = null; }
    if (update) updateToolbar();
  }
  function setMode(m) {
    S.mode = m === "grads" ? "grads" : "values";
    render();
    return S.mode;
  }
  function follow(id) {
    // keep the drawn box of `id` on screen
    var r = S.layout.rects.get(visRep(id));
    if (!r) return;
    var W = svg.clientWidth || 800, Hh = svg.clientHeight || 600;
    var sx = r.x * S.view.s + S.view.tx, sy = r.y * S.view.s + S.view.ty;
    if (sx < 0 || sy < 0 || sx + r.w * S.view.s > W || sy + r.h * S.view.s > Hh) centreOn(id);
  }
  function centreOn(id) {
    var r = S.layout.rects.get(visRep(id));
    if (!r) return;
    var W = svg.clientWidth || 800, Hh = svg.clientHeight || 600;
    if (S.view.s < 0.6) S.view.s = 1;
    S.view.tx = W / 2 - (r.x + r.w / 2) * S.view.s;
    S.view.ty = Hh / 2 - (r.y + r.h / 2) * S.view.s;
    applyView();
  }
  // "Fit" shows the whole graph, however small; the first view (and "Collapse all") never goes below
  // a readable scale (box text at 0.85 × 12 px): a graph too wide for it opens at its top-left corner.
  var READABLE_SCALE = 0.85;
  function fitView(minScale) {
    var L = S.layout;
    var W = svg.clientWidth || 800, Hh = svg.clientHeight || 600;
    var s = Math.max(0.05, Math.min(1.2, (W - 40) / Math.max(L.w, 1), (Hh - 40) / Math.max(L.h, 1)));
    if (s < minScale) {
      S.view.s = minScale;
      S.view.tx = 20;
    } else {
      S.view.s = s;
      S.view.tx = (W - L.w * s) / 2;
    }
    S.view.ty = 20;
    applyView();
  }
  function fit() { fitView(0); }
  function firstView() { fitView(READABLE_SCALE); }
  function search(q) {
    q = String(q || "").trim().toLowerCase();
    if (!q) { S.matches = []; updateToolbar(); return null; }
    if (q !== S.lastQuery) {
      S.lastQuery = q;
      S.matches = G.nodes.filter(function (n) {
        return n.name.toLowerCase().indexOf(q) >= 0 || (n.op && n.op.toLowerCase().indexOf(q) >= 0);
      }).map(function (n) { return n.id; });
      S.matchAt = -1;
    }
    if (!S.matches.length) { updateToolbar(); return null; }
    S.matchAt = (S.matchAt + 1) % S.matches.length;
    var id = S.matches[S.matchAt];
    chainOf(id).forEach(function (a) { S.opened.add(a); });
    S.selected = id;
    render();
    centreOn(id);
    showPanel(id);
    return id;
  }

  // ------------------------------------------------------------------ the panel
  function h(tag, cls, txt, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined && txt !== null) e.textContent = txt;
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    if (typeof v === "string") return v;
    if (v === null || v === undefined) return "\u2014";
    if (Number.isInteger(v)) return String(v);
    return Number(v.toPrecision(6)).toString();
  }
  function showArray(parent, title, enc, note) {
    h("h3", "", title + (note ? " (" + note + ")" : ""), parent);
    if (!enc) { h("p", "tg-muted", "none", parent); return; }
    h("p", "tg-muted", shapeText(enc.shape) + " " + enc.dtype, parent);
    if (enc.values) {
      var shape = enc.shape, cols = shape.length ? shape[shape.length - 1] : 1;
      if (cols > 8 || shape.length < 2) cols = Math.min(8, enc.values.length || 1);
      var tbl = h("table", "tg-values", null, parent);
      var row = null;
      enc.values.forEach(function (v, k) {
        if (k % cols === 0) row = h("tr", "", null, tbl);
        h("td", "", fmt(v), row);
      });
    } else {
      var st = enc.stats;
      h("p", "", "min " + fmt(st.min) + "   max " + fmt(st.max), parent);
      h("p", "", "mean " + fmt(st.mean) + "   std " + fmt(st.std) + (st.nonfinite ? "   non-finite " + st.nonfinite : ""), parent);
      drawHeat(parent, enc.heat);
    }
  }
  function drawHeat(parent, hm) {
    var cols = Math.ceil(Math.sqrt(hm.tiles));
    var rows = Math.ceil(hm.tiles / cols);
    var px = Math.max(1, Math.floor(Math.min(330 / (cols * (hm.w + 1)), 200 / (rows * (hm.h + 1)), 24)));
    var c = document.createElement("canvas");
    c.width = cols * (hm.w + 1) * px;
    c.height = rows * (hm.h + 1) * px;
    c.className = "tg-heat";
    var ctx = c.getContext("2d");
    var k = 0;
    for (var t = 0; t < hm.tiles; t++) {
      var ox = (t % cols) * (hm.w + 1) * px, oy = Math.floor(t / cols) * (hm.h + 1) * px;
      for (var i = 0; i < hm.h; i++) {
        for (var j = 0; j < hm.w; j++) {
          var v = hm.data[k++] / 999;
          var r = v > 0 ? 255 : Math.round(255 * (1 + v));
          var b = v < 0 ? 255 : Math.round(255 * (1 - v));
          var gg = Math.round(255 * (1 - Math.abs(v)));
          ctx.fillStyle = "rgb(" + r + "," + gg + "," + b + ")";
          ctx.fillRect(ox + j * px, oy + i * px, px, px);
        }
      }
    }
    parent.appendChild(c);
    h("p", "tg-muted", (hm.tiles > 1 ? hm.tiles + " images" : "picture") + ", red + / blue \u2212, |max| " + fmt(hm.scale), parent);
  }
  function nameOf(id) { return byId.get(id).name; }
  function showPanel(id) {
    var n = byId.get(id);
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    if (!n) return;
    h("h2", "", n.name, panel);
    var meta = n.kind + (n.op ? " \u00b7 " + n.op : "") + "  " + shapeText(n.shape) + " " + n.dtype;
    h("p", "tg-muted", meta, panel);
    if (n.scope) h("p", "tg-muted", "inside " + n.scope, panel);
    if (n.attrs) h("p", "tg-muted", n.attrs, panel);
    if (n.position) h("p", "tg-muted", "repeat #" + n.position, panel);
    var op = n.op && G.ops[n.op];
    if (op && op.formula) {
      h("h3", "", "formula", panel);
      h("pre", "", op.formula, panel);
    }
    if (op && op.derivative) {
      h("h3", "", "local derivative", panel);
      h("pre", "", op.derivative, panel);
    }
    if (isBox(n)) {
      h("p", "", n.size + " recorded nodes inside; click the box to open it, its title to close it.", panel);
      if (n.outputs.length) showArray(panel, "value of " + nameOf(n.outputs[n.outputs.length - 1]), byId.get(n.outputs[n.outputs.length - 1]).value);
    } else {
      showArray(panel, "value", n.value);
      var g = gradNow(id);
      showArray(panel, S.stepping ? "gradient at step " + S.cur : "gradient", g && g[0], g && g[1]);
    }
    var k = stepOf.get(id);
    if (k !== undefined && S.stepping && k === S.cur - 1) showStep(panel, G.steps[k], k);
    if (G.chains[id]) showChain(panel, G.chains[id], id);
  }
  function showStep(parent, s, k) {
    var box = h("div", "tg-stepbox", null, parent);
    h("h3", "", "step " + (k + 1) + " of " + G.steps.length + ": backward at " + nameOf(s.id), box);
    h("p", "", "gradient that arrived: " + s.grad.text, box);
    if (!s.contributions.length) h("p", "", byId.get(s.id).kind === "parameter" || byId.get(s.id).op === null ? "a leaf: this is its .grad" : "no input needs a gradient", box);
    s.contributions.forEach(function (c) {
      var e = edgeById.get(c.edge);
      var line = "\u2192 " + nameOf(c.to) + (e.index !== null ? " (input " + e.index + ")" : "") + ": g \u00b7 \u2202" + nameOf(s.id) + "/\u2202" + nameOf(c.to) + " = " + c.grad.text;
      h("p", "", line, box);
      if (c.n > 1) h("p", "tg-muted", "   running sum at " + nameOf(c.to) + ", " + c.k + " of " + c.n + " contributions: " + (c.sum || c.grad).text, box);
    });
  }
  function showChain(parent, ch, id) {
    var box = h("div", "tg-chainbox", null, parent);
    h("h3", "", "chain rule from " + nameOf(id) + " to the output", box);
    if (!ch.paths.length) { h("p", "", "no path to the output: its gradient is 0", box); return; }
    if (ch.total > 1) h("p", "", ch.total + " paths; the gradient is the sum over paths" + (ch.total > ch.paths.length ? " (first " + ch.paths.length + " shown)" : ""), box);
    ch.paths.forEach(function (p) {
      var root = p.factors.length ? p.factors[0].of : id;
      var terms = p.factors.map(function (f) { return "\u2202" + nameOf(f.of) + "/\u2202" + nameOf(f.wrt); });
      var more = p.length > p.factors.length ? " \u00b7 \u2026 (" + (p.length - p.factors.length) + " more)" : "";
      h("p", "tg-formula", "\u2202" + nameOf(root) + "/\u2202" + nameOf(id) + " = " + terms.join(" \u00b7 ") + more, box);
      var tbl = h("table", "tg-factors", null, box);
      p.factors.forEach(function (f) {
        var tr = h("tr", "", null, tbl);
        h("td", "", "\u2202" + nameOf(f.of) + "/\u2202" + nameOf(f.wrt), tr);
        h("td", "", f.op || "", tr);
        h("td", "", f.value === null ? "(a Jacobian: see the step)" : f.value, tr);
      });
      if (p.product !== null) h("p", "tg-formula", "product = " + p.product, box);
    });
    if (ch.sum !== null && ch.total > 1) h("p", "tg-formula", "sum over paths = " + ch.sum, box);
    if (ch.grad !== null) h("p", "tg-formula", nameOf(id) + ".grad = " + ch.grad, box);
  }

  // ------------------------------------------------------------------ toolbar, pan and zoom
  var $ = function (id) { return document.getElementById(id); };
  function updateToolbar() {
    $("tg-mode").textContent = S.mode === "grads" ? "showing gradients" : "showing values";
    $("tg-stepno").textContent = S.stepping ? "step " + S.cur + " / " + G.steps.length : G.steps.length + " steps";
    $("tg-play").textContent = S.playing ? "\u275a\u275a Pause" : "\u25b6 Play";
    $("tg-found").textContent = S.matches.length ? S.matchAt + 1 + " of " + S.matches.length : S.lastQuery ? "no match" : "";
  }
  $("tg-title").textContent = G.title;
  document.title = G.title;
  $("tg-mode").addEventListener("click", function () { setMode(S.mode === "grads" ? "values" : "grads"); });
  $("tg-next").addEventListener("click", function () { step(); });
  $("tg-prev").addEventListener("click", function () { back(); });
  $("tg-reset").addEventListener("click", function () { reset(); });
  $("tg-play").addEventListener("click", function () { play(); });
  $("tg-fit").addEventListener("click", function () { fit(); });
  $("tg-collapse").addEventListener("click", function () { S.opened.clear(); render(); firstView(); });
  $("tg-search").addEventListener("keydown", function (ev) { if (ev.key === "Enter") search(ev.target.value); });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) { drag = [ev.clientX, ev.clientY, S.view.tx, S.view.ty]; });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    S.view.tx = drag[2] + ev.clientX - drag[0];
    S.view.ty = drag[3] + ev.clientY - drag[1];
    applyView();
  });
  window.addEventListener("mouseup", function () { drag = null; });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect();
    var mx = ev.clientX - r.left, my = ev.clientY - r.top;
    var f = Math.exp(-ev.deltaY * 0.0015);
    var s = Math.min(4, Math.max(0.03, S.view.s * f));
    S.view.tx = mx - (mx - S.view.tx) * (s / S.view.s);
    S.view.ty = my - (my - S.view.ty) * (s / S.view.s);
    S.view.s = s;
    applyView();
  }, { passive: false });
  svg.addEventListener("click", function () { S.selected = null; render(); });

  window.tinygraphExplorer = {
    data: G,
    visible: visible,
    open: open,
    close: close,
    step: step,
    back: back,
    reset: reset,
    highlight: highlight,
    select: function (id) { S.selected = id; render(); showPanel(id); return id; },
    search: search,
    mode: setMode,
    fit: fit,
  };
  var T2 = performance.now();
  render();
  firstView();
  window.tinygraphExplorer.timing = { parse: T1 - T0, setup: T2 - T1, render: performance.now() - T2 };
  h("p", "tg-muted", "Click a box to open it (a cluster's title closes it), a node for its values, a parameter for its chain rule. Next / Play step through backward in the engine's order.", panel);
})();
